from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from forum.projects.schemas import PlatformSettingsIn, ProjectIn, ProjectUpdate


@pytest.mark.parametrize("slug", ["ab", "acme", "acme-2", "a1", "a" * 40, "  acme  "])
def test_good_slugs(slug: str) -> None:
    assert ProjectIn(slug=slug, name="x").slug == slug.strip()


@pytest.mark.parametrize("slug", ["a", "a" * 41, "Acme", "2acme", "-acme", "acme-", "ac me",
                                  "acmé", "ac_me", "admin", "api", "new", "static", "p", ""])
def test_bad_slugs(slug: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ProjectIn(slug=slug, name="x")
    assert caught.value.errors()[0]["loc"] == ("slug",)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_known_time_zones(zone: str) -> None:
    assert ProjectIn(slug="ok", name="x", time_zone=zone).time_zone == zone


@pytest.mark.parametrize("zone", ["", "Berlin", "Europe/Nowhere", "/etc/passwd", "../UTC",
                                  "x" * 65])
def test_unknown_time_zones(zone: str) -> None:
    with pytest.raises(ValidationError):
        ProjectIn(slug="ok", name="x", time_zone=zone)


@pytest.mark.parametrize("email", ["a", "a@", "@b.org", "a@b", "a b@c.org", "a@@b.org",
                                   "a@b..org", "x" * 65 + "@b.org"])
def test_bad_contact_emails(email: str) -> None:
    with pytest.raises(ValidationError):
        ProjectIn(slug="ok", name="x", contact_email=email)


def test_name_is_required_and_trimmed() -> None:
    assert ProjectIn(slug="ok", name="  Acme  ").name == "Acme"
    for name in ("", "   ", "x" * 81):
        with pytest.raises(ValidationError):
            ProjectIn(slug="ok", name=name)


def test_update_leaves_absent_fields_out() -> None:
    assert ProjectUpdate(name="New").model_dump(exclude_none=True) == {"name": "New"}
    with pytest.raises(ValidationError):
        ProjectUpdate.model_validate({"slug": "renamed"})


@pytest.mark.parametrize(("raw", "fee"), [("5", Decimal("5.00")), ("0", Decimal("0.00")),
                                          ("100", Decimal("100.00")), (" 2.5 ", Decimal("2.50")),
                                          (7, Decimal("7.00"))])
def test_fee_values(raw: object, fee: Decimal) -> None:
    assert PlatformSettingsIn.model_validate({"platform_fee_percent": raw}
                                             ).platform_fee_percent == fee
