"""What several bench scripts measure the same way: requests from several tasks through an
httpx client (the ASGI app in process), and the latency figures printed for them."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

Request = tuple[str, str, dict[str, Any], int]  # method, path, httpx kwargs, expected status


def latency(times_ms: list[float]) -> dict[str, float]:
    """p50 and p99 (nearest rank) of latencies in milliseconds."""
    times = sorted(times_ms)
    return {"p50_ms": round(statistics.median(times), 2),
            "p99_ms": round(times[max(0, int(len(times) * 0.99) - 1)], 2)}


async def run_requests(client: Any, make: Callable[[int], Request], total: int,
                       concurrency: int) -> tuple[float, list[float]]:
    """Send ``total`` requests (the n-th is ``make(n)``) from ``concurrency`` tasks; the wall
    seconds and each request's latency in milliseconds."""
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker() -> None:
        for n in counter:
            method, path, kwargs, expected = make(n)
            started = time.perf_counter()
            response = await client.request(method, path, **kwargs)
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == expected, (response.status_code, response.text)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


def throughput(bench: str, route: str, seconds: float, latencies: list[float]
               ) -> dict[str, Any]:
    return {"bench": bench, "route": route, "requests": len(latencies),
            "per_second": round(len(latencies) / seconds, 1), **latency(latencies)}


async def page_latency(client: Any, page: str, requests: int, warm_up: int
                       ) -> dict[str, float]:
    """GET ``page`` one request at a time (after ``warm_up`` unmeasured ones); p50 and p99."""
    for _ in range(warm_up):
        response = await client.get(page)
        assert response.status_code == 200, (page, response.text[:300])
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await client.get(page)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, page
    return latency(times)
