"""X-Hub-Signature-256: GitHub's documented test vector and the constant-time check."""

from __future__ import annotations

from plugins.github_import.webhook import expected_signature, verify_signature

# https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
SECRET = "It's a Secret to Everybody"
PAYLOAD = b"Hello, World!"
SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_githubs_documented_vector() -> None:
    assert expected_signature(SECRET, PAYLOAD) == SIGNATURE
    assert verify_signature(SECRET, PAYLOAD, SIGNATURE)


def test_anything_else_is_refused() -> None:
    assert not verify_signature(SECRET, PAYLOAD + b" ", SIGNATURE)
    assert not verify_signature("another secret", PAYLOAD, SIGNATURE)
    assert not verify_signature(SECRET, PAYLOAD, SIGNATURE.replace("sha256=", "sha1="))
    assert not verify_signature(SECRET, PAYLOAD, SIGNATURE[:-1] + "0")
    assert not verify_signature(SECRET, PAYLOAD, None)
    assert not verify_signature(SECRET, PAYLOAD, "")
    assert not verify_signature("", PAYLOAD, expected_signature("", PAYLOAD))
