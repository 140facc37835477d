"""Password rules and hashing."""

from __future__ import annotations

import pytest

from forum.accounts.passwords import (
    hash_password,
    hash_password_async,
    needs_rehash,
    password_problem,
    verify_password,
    verify_password_async,
)


@pytest.mark.parametrize("password, expected", [
    ("short", "at least 10"),
    ("p" * 129, "at most 128"),
    ("Password1234", "too common"),
    ("QWERTYUIOP", "too common"),
    ("abababababab", "too simple"),
    ("ada.lovelace", "username or email"),
    ("ADA@example.org", "username or email"),
])
def test_refused_passwords(password: str, expected: str) -> None:
    problem = password_problem(password, username="ada.lovelace", email="ada@example.org")
    assert problem is not None and expected in problem


@pytest.mark.parametrize("password", ["a long and unusual passphrase", "x" * 9 + "yz1",
                                      ("the quick brown fox " * 7)[:128]])
def test_accepted_passwords(password: str) -> None:
    assert password_problem(password, username="ada", email="ada@example.org") is None


async def test_hash_and_verify() -> None:
    hashed = await hash_password_async("a long passphrase")
    assert hashed.startswith("$argon2id$")
    assert not needs_rehash(hashed)
    assert await verify_password_async(hashed, "a long passphrase")
    assert not await verify_password_async(hashed, "a long passphrasf")
    assert not await verify_password_async(None, "anything")
    assert not verify_password("not a hash", "anything")
    assert verify_password(hash_password("x"), "x")
