"""Rate limits on sensitive actions (log-in, sign-up, password reset) with ``limits``.

A rule is named after its setting: rule ``"login"`` reads ``settings.rate_limit_login``
(``"10/minute"``, ``"100/hour"``, any string ``limits.parse`` accepts). Counters live in
process memory on the embedded tier and in Redis when ``FORUM_REDIS_URL`` is set, so
several web processes share them. One limiter per app, built on first use::

    await limiter_for(request).hit("login", client_ip(request), login_name)

Going over a limit raises ``RateLimited`` (429 with ``Retry-After``), which the error
handlers show as a page or as the API error shape, depending on the path.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.requests import Request

from forum.settings import Settings
from forum.web.errors import UserError

log = logging.getLogger(__name__)


class RateLimited(UserError):
    def __init__(self, retry_after: int) -> None:
        minutes = "a minute" if retry_after <= 60 else f"{math.ceil(retry_after / 60)} minutes"
        super().__init__(429, f"Too many attempts. Please wait {minutes} and try again.",
                         headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


def redis_storage_uri(redis_url: str) -> str:
    """``redis://h:p/0`` -> ``async+redis://h:p/0`` (``unix://`` -> ``async+redis+unix://``)."""
    if redis_url.startswith("unix://"):
        return "async+redis+" + redis_url
    return "async+" + redis_url


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.storage: Storage
        if settings.redis_url:
            self.storage = RedisStorage(redis_storage_uri(settings.redis_url),
                                        implementation="redispy", key_prefix="forum-limits")
        else:
            self.storage = MemoryStorage()
        self.strategy = MovingWindowRateLimiter(self.storage)
        self._rules: dict[str, RateLimitItem] = {}

    def rule(self, name: str) -> RateLimitItem:
        if name not in self._rules:
            value = getattr(self.settings, f"rate_limit_{name}", None)
            if not isinstance(value, str):
                raise KeyError(f"no setting rate_limit_{name}")
            self._rules[name] = parse(value)
        return self._rules[name]

    async def hit(self, name: str, *key: str) -> None:
        """Count one attempt for ``key`` under rule ``name``; raise ``RateLimited`` if over."""
        item = self.rule(name)
        identifiers = (name, *(part.lower() for part in key))
        try:
            allowed = await self.strategy.hit(item, *identifiers)
            if allowed:
                return
            stats = await self.strategy.get_window_stats(item, *identifiers)
        except Exception:
            # The counters are a defence, not a dependency: if Redis is down, let people in.
            log.exception("rate limit storage failed; allowing the request")
            return
        raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))

    async def reset(self) -> None:
        await self.storage.reset()

    async def close(self) -> None:
        """Release the Redis connections (nothing to do for memory)."""
        if isinstance(self.storage, RedisStorage):
            client: Any = getattr(self.storage.bridge, "storage", None)
            if client is not None:
                await client.aclose()


def limiter_for(request: Request) -> RateLimiter:
    """The app's limiter, created on first use from the platform's settings."""
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "rate_limiter", None)
    if limiter is None:
        limiter = RateLimiter(state.platform.settings)
        state.rate_limiter = limiter
    return limiter


def client_ip(request: Request) -> str:
    """The peer address (uvicorn already applied trusted ``X-Forwarded-For``)."""
    return request.client.host if request.client else "unknown"


async def close_limiter(app: object) -> None:
    """Release the limiter's Redis connections when the app shuts down (lifespan end)."""
    state = getattr(app, "state", None)
    limiter: RateLimiter | None = getattr(state, "rate_limiter", None)
    if limiter is not None:
        await limiter.close()
        state.rate_limiter = None  # type: ignore[union-attr]
