"""Rate limits on log-in, sign-up and reset: 429 with Retry-After, page or JSON."""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from forum.web.ratelimit import RateLimited, RateLimiter, close_limiter, redis_storage_uri
from tests.conftest import REDIS_URL, base_settings
from tests.factories import PASSWORD, make_user
from tests.support import csrf_from, post_form


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_login": "2/minute", "rate_limit_signup": "2/minute",
            "rate_limit_reset": "2/minute"}


async def test_login_form_over_the_limit_gets_429_page(client: httpx.AsyncClient) -> None:
    await make_user("ada")
    for _ in range(2):
        response = await post_form(client, "/login", {"login": "ada", "password": "wrong one!"})
        assert response.status_code == 401
    limited = await post_form(client, "/login", {"login": "ada", "password": PASSWORD})
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 60
    assert "text/html" in limited.headers["content-type"]
    assert "Too many attempts" in limited.text
    # Even the right password does not get through while limited.
    assert (await client.get("/api/v1/users/me")).status_code == 401


async def test_login_limit_is_per_login_name(client: httpx.AsyncClient) -> None:
    await make_user("bob")
    for _ in range(2):
        await post_form(client, "/login", {"login": "someone", "password": "guess guess"})
    assert (await post_form(client, "/login", {"login": "SOMEONE",
                                               "password": "guess"})).status_code == 429
    ok = await post_form(client, "/login", {"login": "bob", "password": PASSWORD})
    assert ok.status_code == 303


async def test_api_login_over_the_limit_uses_the_error_shape(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        await client.post("/api/v1/auth/login", json={"login": "x", "password": "y"})
    response = await client.post("/api/v1/auth/login", json={"login": "x", "password": "y"})
    assert response.status_code == 429
    assert response.headers["retry-after"].isdigit()
    assert response.json()["error"]["code"] == "rate_limited"


async def test_signup_over_the_limit(client: httpx.AsyncClient) -> None:
    for n in range(2):
        response = await client.post("/api/v1/auth/signup", json={
            "username": f"new{n}", "email": f"new{n}@example.org",
            "password": "a long and unusual passphrase"})
        assert response.status_code == 201
    response = await post_form(client, "/signup", {
        "username": "new3", "email": "new3@example.org",
        "password": "a long and unusual passphrase"})
    assert response.status_code == 429
    assert "retry-after" in response.headers


async def test_reset_over_the_limit(client: httpx.AsyncClient, run_jobs: Any,
                                    mailbox: Any) -> None:
    await make_user("carol")
    for _ in range(2):
        response = await post_form(client, "/password/forgot", {"email": "carol@example.org"})
        assert response.status_code == 303
    token = await csrf_from(client, "/password/forgot")
    limited = await client.post("/password/forgot", data={"email": "carol@example.org",
                                                          "csrf_token": token})
    assert limited.status_code == 429
    await run_jobs()
    assert len(mailbox()) == 2


async def test_limiter_in_memory_counts_per_key(tmp_path: Path) -> None:
    settings = base_settings(tmp_path, "sqlite://:memory:", rate_limit_login="2/minute")
    limiter = RateLimiter(settings)
    await limiter.hit("login", "1.2.3.4", "ada")
    await limiter.hit("login", "1.2.3.4", "ada")
    with pytest.raises(RateLimited) as limited:
        await limiter.hit("login", "1.2.3.4", "ADA")
    assert limited.value.status == 429
    assert limited.value.headers == {"Retry-After": str(limited.value.retry_after)}
    await limiter.hit("login", "5.6.7.8", "ada")
    with pytest.raises(KeyError):
        limiter.rule("no_such_rule")


def test_redis_uri() -> None:
    assert redis_storage_uri("redis://h:1/0") == "async+redis://h:1/0"
    assert redis_storage_uri("rediss://h:1/0") == "async+rediss://h:1/0"
    assert redis_storage_uri("unix:///tmp/r.sock") == "async+redis+unix:///tmp/r.sock"


@pytest.mark.redis
async def test_limiter_on_redis_is_shared_between_processes(tmp_path: Path) -> None:
    settings = base_settings(tmp_path, "sqlite://:memory:", redis_url=REDIS_URL,
                             rate_limit_signup="3/minute")
    first, second = RateLimiter(settings), RateLimiter(settings)  # two web processes
    app = SimpleNamespace(state=SimpleNamespace(rate_limiter=second))
    ip = f"10.0.0.1-{uuid.uuid4().hex}"  # a fresh key, whatever an earlier run left
    try:
        await first.hit("signup", ip)
        await second.hit("signup", ip)
        await first.hit("signup", ip)
        with pytest.raises(RateLimited) as limited:
            await second.hit("signup", ip)
        assert 0 < limited.value.retry_after <= 60
        await first.hit("signup", f"{ip}-other")
    finally:
        await first.close()
        await close_limiter(app)
    assert app.state.rate_limiter is None


async def test_limiter_lets_requests_through_when_redis_is_down(tmp_path: Path) -> None:
    settings = base_settings(tmp_path, "sqlite://:memory:", redis_url="redis://127.0.0.1:1/0",
                        rate_limit_login="1/minute")
    limiter = RateLimiter(settings)
    try:
        await limiter.hit("login", "ip")
        await limiter.hit("login", "ip")
    finally:
        await limiter.close()
