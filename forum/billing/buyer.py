"""Who is buying from a project: professional, personal, or for another free/open-source
project (FLOSS). The FLOSS discount applies only while a GitHub verification holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from forum.billing.models import BillingSettings, BuyerProfile, BuyerPurpose
from forum.billing.schemas import BuyerIn, BuyerOut

VERIFICATION_DAYS = 365


def now_utc() -> datetime:
    return datetime.now(UTC)


async def buyer_profile(user_id: int, project_id: int) -> BuyerProfile | None:
    return await BuyerProfile.get_or_none(user_id=user_id, project_id=project_id)


def floss_verified(profile: BuyerProfile | None, now: datetime | None = None) -> bool:
    if profile is None or profile.purpose != BuyerPurpose.FLOSS:
        return False
    expires = profile.verification_expires_at
    return profile.verified_at is not None and expires is not None and (
        expires > (now or now_utc()))


def discount_percent(profile: BuyerProfile | None, settings: BillingSettings,
                     now: datetime | None = None) -> int:
    return settings.floss_discount_percent if floss_verified(profile, now) else 0


def discounted(amount: int, percent: int) -> int:
    """``amount`` less ``percent``, rounded down to the minor unit (never below 1)."""
    if percent <= 0:
        return amount
    return max(1, amount * (100 - percent) // 100)


async def do_save_buyer(user_id: int, project_id: int, data: BuyerIn) -> BuyerProfile:
    """Record who is buying. A FLOSS verification is kept while the target is the same."""
    profile = await buyer_profile(user_id, project_id)
    if profile is None:
        return await BuyerProfile.create(
            user_id=user_id, project_id=project_id, purpose=data.purpose,
            floss_target=data.floss_target, floss_website=data.floss_website)
    same_target = (data.purpose == BuyerPurpose.FLOSS
                   and data.floss_target.lower() == profile.floss_target.lower())
    profile.purpose = data.purpose
    profile.floss_target = data.floss_target
    profile.floss_website = data.floss_website
    if not same_target:
        profile.verified_at = None
        profile.verification_expires_at = None
        profile.github_login = ""
    await profile.save()
    return profile


async def do_record_verification(profile: BuyerProfile, github_login: str,
                                 now: datetime | None = None) -> BuyerProfile:
    moment = now or now_utc()
    profile.github_login = github_login[:100]
    profile.verified_at = moment
    profile.verification_expires_at = moment + timedelta(days=VERIFICATION_DAYS)
    await profile.save(update_fields=["github_login", "verified_at",
                                      "verification_expires_at", "updated_at"])
    return profile


def buyer_out(profile: BuyerProfile, settings: BillingSettings) -> BuyerOut:
    return BuyerOut(purpose=profile.purpose, floss_target=profile.floss_target,
                    floss_website=profile.floss_website, github_login=profile.github_login,
                    verified_at=profile.verified_at,
                    verification_expires_at=profile.verification_expires_at,
                    discount_percent=discount_percent(profile, settings))
