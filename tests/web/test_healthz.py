from __future__ import annotations

import httpx


async def test_healthz_reports_database_and_backlog(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] is True
    assert body["jobs_backlog"] == 0
    assert body["jobs_runner"] == "EmbeddedQueue"


async def test_unknown_page_is_404_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "Not found" in response.text
    assert response.headers["x-request-id"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_unknown_api_path_uses_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
