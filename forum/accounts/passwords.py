"""Password hashing with argon2id (argon2-cffi's recommended parameters) and strength rules.

Hashing is slow on purpose; the ``*_async`` variants run it in a thread so a log-in does
not stall every other request of the process.
"""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
# Hashing cost grows with length; longer input is refused rather than hashed.
MAX_LENGTH = 128

_hasher = PasswordHasher()

# Passwords of the minimum length or more that lead every breached-password list.
_COMMON = """
0000000000 0123456789 0987654321 1111111111 11111111111 1122334455 1234512345
1234567890 12345678910 123456789a 123456789q 1234567890a 1234567890q 123123123123
123qweasdzxc 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx3edc 9876543210 aaaaaaaaaa abcdefghij
abcd123456 administrator asdfghjkl1 asdfghjkl123 baseball123 changeme123 charlie123
computer123 dragon1234 football123 iloveyou123 letmein123 letmein1234 master1234
michael123 monkey1234 mypassword mypassword1 passw0rd123 password12 password123
password1234 password12345 passwordpassword princess123 q1w2e3r4t5 q1w2e3r4t5y6
qazwsxedc123 qwerty12345 qwerty123456 qwertyuiop qwertyuiop1 qwertyuiop123 shadow1234
starwars123 sunshine123 superman123 trustno1234 welcome123 welcome1234 zxcvbnm123
zxcvbnm1234 qwertyqwerty abc123abc123 iloveyou1234 letmeinplease 1234qwerasdf
"""
COMMON_PASSWORDS = frozenset(_COMMON.split())


@functools.cache
def _dummy_hash() -> str:
    """Verified against when no account matches, so a wrong name costs as much time
    as a wrong password."""
    return _hasher.hash("no account has this password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    """Like ``verify_password``; with no hash it still spends the time of a verification."""
    if not password_hash:
        await asyncio.to_thread(verify_password, _dummy_hash(), password)
        return False
    return await asyncio.to_thread(verify_password, password_hash, password)


def password_problem(password: str, *, username: str = "", email: str = "") -> str | None:
    """Why ``password`` may not be used, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    folded = password.strip().casefold()
    personal = {value.strip().casefold() for value in (username, email) if value.strip()}
    personal |= {value.partition("@")[0] for value in personal if "@" in value}
    if folded in personal:
        return "The password must not be your username or email address."
    if folded in COMMON_PASSWORDS or folded.replace(" ", "") in COMMON_PASSWORDS:
        return "This password is too common; choose one that is harder to guess."
    if len(set(folded)) < 4:
        return "This password is too simple; use more different characters."
    return None
