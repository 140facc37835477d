"""The accounts JSON API: log-in/out, the current user, API keys."""

from __future__ import annotations

import hashlib

import httpx

from forum.accounts.models import ApiKey
from tests.factories import PASSWORD, make_user


async def test_login_sets_a_session_cookie_and_logout_ends_it(client: httpx.AsyncClient) -> None:
    await make_user("ada")
    response = await client.post("/api/v1/auth/login", json={"login": "Ada",
                                                             "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["username"] == "ada"
    assert "forum_session=" in response.headers["set-cookie"]
    assert (await client.get("/api/v1/users/me")).json()["username"] == "ada"

    out = await client.post("/api/v1/auth/logout", json={})
    assert out.status_code == 204
    assert (await client.get("/api/v1/users/me")).status_code == 401


async def test_login_refusals_use_the_error_shape(client: httpx.AsyncClient) -> None:
    await make_user("bob")
    await make_user("unverified", verified=False)
    await make_user("banned", is_active=False)
    cases = [
        ({"login": "bob", "password": "wrong password!"}, 401, "invalid_credentials"),
        ({"login": "nobody", "password": PASSWORD}, 401, "invalid_credentials"),
        ({"login": "bob", "password": "p" * 5000}, 401, "invalid_credentials"),
        ({"login": "unverified", "password": PASSWORD}, 403, "email_unverified"),
        ({"login": "banned", "password": PASSWORD}, 403, "account_disabled"),
        ({"login": "bob"}, 422, "invalid"),
    ]
    for body, status, code in cases:
        response = await client.post("/api/v1/auth/login", json=body)
        assert response.status_code == status, body
        assert response.json()["error"]["code"] == code
    assert (await client.get("/api/v1/users/me")).status_code == 401


async def test_me_is_401_when_anonymous(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/users/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


async def test_api_key_lifecycle(client: httpx.AsyncClient) -> None:
    await make_user("carol")
    await client.post("/api/v1/auth/login", json={"login": "carol", "password": PASSWORD})
    created = await client.post("/api/v1/users/me/api-keys", json={"name": "laptop"})
    assert created.status_code == 201
    body = created.json()
    key = body["key"]
    assert key.startswith("fk_") and len(key) > 40
    assert body["prefix"] == key[:10]

    stored = await ApiKey.get(id=body["id"])
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (stored.name, stored.prefix)

    listed = await client.get("/api/v1/users/me/api-keys")
    assert listed.status_code == 200
    [entry] = listed.json()["keys"]
    assert entry["id"] == body["id"] and entry["name"] == "laptop"
    assert "key" not in entry and key not in listed.text

    # The key works on its own, without the session cookie.
    client.cookies.clear()
    bearer = {"authorization": f"Bearer {key}"}
    me = await client.get("/api/v1/users/me", headers=bearer)
    assert me.status_code == 200 and me.json()["username"] == "carol"
    await stored.refresh_from_db()
    assert stored.last_used_at is not None

    deleted = await client.delete(f"/api/v1/users/me/api-keys/{body['id']}", headers=bearer)
    assert deleted.status_code == 204
    revoked = await client.get("/api/v1/users/me", headers=bearer)
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "unauthenticated"


async def test_unknown_bearer_key_is_401(client: httpx.AsyncClient) -> None:
    for value in ("Bearer fk_not-a-real-key", "Bearer something-else"):
        response = await client.get("/api/v1/users/me", headers={"authorization": value})
        assert response.status_code == 401


async def test_another_users_key_is_404(client: httpx.AsyncClient) -> None:
    await make_user("dave")
    await make_user("erin")
    await client.post("/api/v1/auth/login", json={"login": "erin", "password": PASSWORD})
    erin_key = (await client.post("/api/v1/users/me/api-keys", json={"name": "e"})).json()
    await client.post("/api/v1/auth/logout", json={})
    await client.post("/api/v1/auth/login", json={"login": "dave", "password": PASSWORD})
    dave_key = (await client.post("/api/v1/users/me/api-keys", json={"name": "d"})).json()
    client.cookies.clear()
    dave = {"authorization": f"Bearer {dave_key['key']}"}

    response = await client.delete(f"/api/v1/users/me/api-keys/{erin_key['id']}", headers=dave)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    for bad_id in ("999999", "abc"):
        assert (await client.delete(f"/api/v1/users/me/api-keys/{bad_id}",
                                    headers=dave)).status_code == 404
    listed = (await client.get("/api/v1/users/me/api-keys", headers=dave)).json()["keys"]
    assert [k["id"] for k in listed] == [dave_key["id"]]
    erin = await client.get("/api/v1/users/me",
                            headers={"authorization": f"Bearer {erin_key['key']}"})
    assert erin.json()["username"] == "erin"


async def test_api_keys_need_a_user(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/users/me/api-keys",
                              json={"name": "x"})).status_code == 401
    assert (await client.get("/api/v1/users/me/api-keys")).status_code == 401


async def test_api_key_name_is_validated(client: httpx.AsyncClient) -> None:
    await make_user("frank")
    await client.post("/api/v1/auth/login", json={"login": "frank", "password": PASSWORD})
    for name in ("", "   ", "n" * 81):
        response = await client.post("/api/v1/users/me/api-keys", json={"name": name})
        assert response.status_code == 422
        assert "name" in response.json()["error"]["fields"]
    assert await ApiKey.all().count() == 0


async def test_delete_with_session_cookie_needs_the_csrf_header(client: httpx.AsyncClient) -> None:
    await make_user("gina")
    await client.post("/api/v1/auth/login", json={"login": "gina", "password": PASSWORD})
    key = (await client.post("/api/v1/users/me/api-keys", json={"name": "g"})).json()
    refused = await client.delete(f"/api/v1/users/me/api-keys/{key['id']}")
    assert refused.status_code == 403
    assert await ApiKey.filter(id=key["id"], revoked_at=None).exists()


async def test_openapi_document_lists_the_accounts_api(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert "201" in paths["/api/v1/auth/signup"]["post"]["responses"]
    assert "409" in paths["/api/v1/auth/signup"]["post"]["responses"]
    assert "200" in paths["/api/v1/auth/login"]["post"]["responses"]
    assert "get" in paths["/api/v1/users/me"]
    assert {"get", "post"} <= set(paths["/api/v1/users/me/api-keys"])
    assert "delete" in paths["/api/v1/users/me/api-keys/{key_id}"]
