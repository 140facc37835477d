"""The platform admin's jobs page and API: failures with their errors, retry, the boundary."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from forum.accounts.middleware import hash_api_key
from forum.accounts.models import ApiKey
from forum.jobs.embedded import utcnow
from forum.jobs.models import Job, JobState
from tests.factories import make_user
from tests.support import Login, post_form

ERROR = ("Traceback (most recent call last):\n  File \"forum/x.py\", line 1, in send\n"
         "ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 25)")


async def failed_job(name: str = "mail.send") -> Job:
    return await Job.create(name=name, kwargs={"to": "ada@example.org", "secret": "tok-123"},
                            state=JobState.FAILED, run_at=utcnow() - timedelta(minutes=5),
                            attempts=8, max_tries=8, last_error=ERROR,
                            finished_at=utcnow())


async def bearer(username: str, *, admin: bool) -> dict[str, str]:
    user = await make_user(username, admin=admin)
    key = f"fk_{username}-key-0123456789"
    await ApiKey.create(user=user, name="test", prefix=key[:8], key_hash=hash_api_key(key))
    return {"authorization": f"Bearer {key}"}


async def test_anonymous_visitors_are_sent_to_log_in(client: httpx.AsyncClient) -> None:
    job = await failed_job()
    response = await client.get("/admin/jobs")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fadmin%2Fjobs"
    assert (await client.get("/api/v1/admin/jobs")).status_code == 401
    response = await client.post(f"/api/v1/admin/jobs/{job.id}/retry", json={})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    await job.refresh_from_db()
    assert job.state == JobState.FAILED


async def test_members_who_are_not_admins_are_refused(client: httpx.AsyncClient,
                                                       login: Login) -> None:
    job = await failed_job()
    await login(await make_user("member"))
    response = await client.get("/admin/jobs", headers={"accept": "text/html"})
    assert response.status_code == 403
    assert "ConnectionRefusedError" not in response.text

    # A real form post with a valid CSRF token, from someone without the role.
    home = await client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert token, "the home page carries the session's CSRF token"
    response = await client.post(f"/admin/jobs/{job.id}/retry",
                                 data={"csrf_token": token.group(1)})
    assert response.status_code == 403
    await job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.FAILED, 8)

    headers = await bearer("apimember", admin=False)
    response = await client.get("/api/v1/admin/jobs", headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    response = await client.post(f"/api/v1/admin/jobs/{job.id}/retry", headers=headers)
    assert response.status_code == 403
    await job.refresh_from_db()
    assert job.state == JobState.FAILED


async def test_admin_sees_failed_jobs_with_their_error(client: httpx.AsyncClient,
                                                       login: Login) -> None:
    job = await failed_job()
    await Job.create(name="jobs.prune_finished", kwargs={}, run_at=utcnow())
    await login(await make_user("root", admin=True))
    response = await client.get("/admin/jobs")
    assert response.status_code == 200
    page = response.text
    assert f'id="job-{job.id}"' in page
    assert "mail.send" in page
    assert "8 of 8" in page
    assert "ConnectionRefusedError: [Errno 111] Connect call failed" in page
    assert 'id="count-failed">1<' in page
    assert 'id="count-queued">1<' in page
    assert 'id="jobs-backlog">1<' in page
    assert "tok-123" not in page  # job arguments can hold one-time links
    assert f'action="/admin/jobs/{job.id}/retry"' in page
    assert 'name="csrf_token"' in page


async def test_admin_retries_a_failed_job_from_the_page(client: httpx.AsyncClient,
                                                        login: Login) -> None:
    job = await failed_job()
    await login(await make_user("root", admin=True))
    response = await post_form(client, f"/admin/jobs/{job.id}/retry", {}, page="/admin/jobs")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/jobs"
    await job.refresh_from_db()
    assert (job.state, job.attempts, job.finished_at) == (JobState.QUEUED, 0, None)
    page = (await client.get("/admin/jobs")).text
    assert f"Job #{job.id} (mail.send) is queued again." in page
    assert f'id="job-{job.id}"' not in page

    # Retrying again (a second tab, a double click) changes nothing and says why.
    response = await post_form(client, f"/admin/jobs/{job.id}/retry", {}, page="/admin/jobs")
    assert response.status_code == 303
    assert "only failed jobs can be retried" in (await client.get("/admin/jobs")).text


async def test_retry_form_without_csrf_token_is_refused(client: httpx.AsyncClient,
                                                        login: Login) -> None:
    job = await failed_job()
    await login(await make_user("root", admin=True))
    response = await client.post(f"/admin/jobs/{job.id}/retry", data={})
    assert response.status_code == 403
    await job.refresh_from_db()
    assert job.state == JobState.FAILED


async def test_admin_api_lists_and_retries(client: httpx.AsyncClient) -> None:
    job = await failed_job()
    headers = await bearer("apiroot", admin=True)
    response = await client.get("/api/v1/admin/jobs", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["runner"] == "EmbeddedQueue"
    assert body["backlog"] == 0
    assert body["counts"] == {"queued": 0, "running": 0, "done": 0, "failed": 1}
    [failed] = body["failed"]
    assert failed["id"] == job.id
    assert failed["name"] == "mail.send"
    assert (failed["attempts"], failed["max_tries"]) == (8, 8)
    assert failed["last_error"] == ERROR
    assert "kwargs" not in failed

    response = await client.post(f"/api/v1/admin/jobs/{job.id}/retry", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"id": job.id, "name": "mail.send", "queued": True}
    response = await client.post(f"/api/v1/admin/jobs/{job.id}/retry", headers=headers)
    assert response.status_code == 409
    for unknown in ("999999", "abc"):
        response = await client.post(f"/api/v1/admin/jobs/{unknown}/retry", headers=headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


async def test_admin_api_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert "get" in paths["/api/v1/admin/jobs"]
    assert "post" in paths["/api/v1/admin/jobs/{job_id}/retry"]


async def test_healthz_counts_the_embedded_backlog(client: httpx.AsyncClient) -> None:
    now = utcnow()
    for state in (JobState.QUEUED, JobState.QUEUED, JobState.RUNNING, JobState.DONE):
        await Job.create(name="jobs.prune_finished", kwargs={}, state=state, run_at=now)
    await Job.create(name="jobs.prune_finished", kwargs={}, run_at=now + timedelta(hours=1))
    body = (await client.get("/healthz")).json()
    assert (body["jobs_runner"], body["jobs_backlog"]) == ("EmbeddedQueue", 2)
