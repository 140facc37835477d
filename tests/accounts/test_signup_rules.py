"""Every bad-input rule of sign-up, on the HTML form and on the JSON API."""

from __future__ import annotations

import httpx
import pytest

from forum.accounts.models import User
from tests.factories import make_user
from tests.support import post_form

GOOD = {"username": "newcomer", "email": "newcomer@example.org",
        "password": "a long and unusual passphrase"}


@pytest.mark.parametrize("changes, field, status", [
    ({"username": "TAKEN"}, "username", 409),
    ({"email": "Taken@Example.ORG"}, "email", 409),
    ({"password": "short"}, "password", 422),
    ({"password": "x" * 10 + "y" * 119}, "password", 422),
    ({"password": "password1234"}, "password", 422),
    ({"password": "Newcomer123".lower() + "x", "username": "newcomer123x"}, "password", 422),
    ({"password": "newcomer@example.org"}, "password", 422),
    ({"username": "ab"}, "username", 422),
    ({"username": "_underscore"}, "username", 422),
    ({"username": "has space"}, "username", 422),
    ({"username": "x" * 31}, "username", 422),
    ({"email": "not-an-address"}, "email", 422),
    ({"email": "a@b"}, "email", 422),
])
async def test_api_signup_refusals_name_the_field(
    client: httpx.AsyncClient, changes: dict[str, str], field: str, status: int
) -> None:
    await make_user("taken", email="taken@example.org")
    response = await client.post("/api/v1/auth/signup", json={**GOOD, **changes})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == ("conflict" if status == 409 else "invalid")
    assert list(error["fields"]) == [field]
    assert await User.all().count() == 1


async def test_api_signup_creates_the_user(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/signup", json=GOOD)
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "newcomer"
    assert body["email_verified"] is False
    assert "password" not in str(body)
    assert await User.exists(username_lower="newcomer")


async def test_duplicate_username_and_email_both_named(client: httpx.AsyncClient) -> None:
    await make_user("newcomer", email="newcomer@example.org")
    response = await client.post("/api/v1/auth/signup", json=GOOD)
    assert response.status_code == 409
    assert set(response.json()["error"]["fields"]) == {"username", "email"}


@pytest.mark.parametrize("body, status", [
    (b"{not json", 400),
    (b"[1, 2]", 400),
    (b"\xff\xfe", 400),
    (b"", 400),
    (b'{"username": "x"}', 422),
    (b'{"username": 5, "email": "a@b.org", "password": "a long passphrase"}', 422),
])
async def test_api_signup_malformed_bodies(
    client: httpx.AsyncClient, body: bytes, status: int
) -> None:
    response = await client.post("/api/v1/auth/signup", content=body,
                                 headers={"content-type": "application/json"})
    assert response.status_code == status
    assert response.json()["error"]["code"] in {"malformed_json", "invalid"}
    assert await User.all().count() == 0


async def test_api_signup_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/signup",
                                 json={**GOOD, "password": "p" * 2_000_000})
    assert response.status_code == 413


@pytest.mark.parametrize("changes, field, status", [
    ({"username": "Taken"}, "username", 409),
    ({"email": "TAKEN@example.org"}, "email", 409),
    ({"password": "qwertyuiop"}, "password", 422),
    ({"password": "p" * 129}, "password", 422),
    ({"username": "no/slash"}, "username", 422),
])
async def test_signup_form_reshows_values_and_field_errors(
    client: httpx.AsyncClient, changes: dict[str, str], field: str, status: int
) -> None:
    await make_user("taken", email="taken@example.org")
    data = {**GOOD, **changes}
    response = await post_form(client, "/signup", data)
    assert response.status_code == status
    # The message sits inside the field's label, and the other values come back.
    label = response.text.split(f'name="{field}"', 1)[1].split("</label>", 1)[0]
    assert 'class="error"' in label
    if field != "username":
        assert f'value="{data["username"]}"' in response.text
    if field != "email":
        assert f'value="{data["email"]}"' in response.text
    assert data["password"] not in response.text
    assert await User.all().count() == 1
