from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request

from forum.web.api import api_route, openapi_document
from forum.web.errors import EXCEPTION_HANDLERS, Conflict


class WidgetIn(BaseModel):
    name: str = Field(min_length=2, max_length=10)
    size: int = Field(ge=1)


class WidgetOut(BaseModel):
    id: int
    name: str


@api_route("POST", "/api/v1/widgets", body=WidgetIn, response=WidgetOut, status=201,
           errors=(409,))
async def create_widget(request: Request, body: WidgetIn) -> WidgetOut:
    """Create a widget."""
    if body.name == "taken":
        raise Conflict("That name is taken.", fields={"name": "already used"})
    return WidgetOut(id=7, name=body.name)


@pytest.fixture
async def widget_client() -> httpx.AsyncClient:
    app = Starlette(routes=[create_widget], exception_handlers=EXCEPTION_HANDLERS)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_valid_body_gives_declared_status_and_model(widget_client: httpx.AsyncClient) -> None:
    response = await widget_client.post("/api/v1/widgets", json={"name": "gear", "size": 2})
    assert response.status_code == 201
    assert response.json() == {"id": 7, "name": "gear"}


async def test_malformed_json_is_400(widget_client: httpx.AsyncClient) -> None:
    response = await widget_client.post("/api/v1/widgets", content=b"{not json",
                                        headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


async def test_invalid_fields_are_422_naming_each(widget_client: httpx.AsyncClient) -> None:
    response = await widget_client.post("/api/v1/widgets", json={"name": "x", "size": 0})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"name", "size"}


async def test_user_error_keeps_the_one_shape(widget_client: httpx.AsyncClient) -> None:
    response = await widget_client.post("/api/v1/widgets", json={"name": "taken", "size": 1})
    assert response.status_code == 409
    assert response.json() == {"error": {"code": "conflict", "message": "That name is taken.",
                                         "fields": {"name": "already used"}}}


def test_openapi_uses_the_validation_models() -> None:
    document = openapi_document([create_widget], "Test")
    operation = document["paths"]["/api/v1/widgets"]["post"]
    body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref == "#/components/schemas/WidgetIn"
    widget_in = document["components"]["schemas"]["WidgetIn"]
    assert widget_in["properties"]["name"]["minLength"] == 2
    assert set(operation["responses"]) >= {"201", "400", "409", "413", "422", "401"}


async def test_served_openapi_lists_platform_endpoints(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    assert "Error" in document["components"]["schemas"]


def test_openapi_path_parameters_drop_starlette_converters() -> None:
    @api_route("DELETE", "/api/v1/widgets/{widget_id:int}", status=204)
    async def delete_widget(request: Request) -> None:
        """Delete a widget."""

    document = openapi_document([delete_widget], "Test")
    operation = document["paths"]["/api/v1/widgets/{widget_id}"]["delete"]
    assert operation["parameters"] == [{"name": "widget_id", "in": "path", "required": True,
                                        "schema": {"type": "integer"}}]
