"""JSON endpoints under ``/api/v1`` and the OpenAPI document generated from their schemas.

``api_route`` wraps a handler so that input is parsed and validated with the same pydantic
model that the OpenAPI document describes, and the output is serialised with its model::

    @api_route("POST", "/api/v1/projects", body=ProjectIn, response=ProjectOut, status=201)
    async def create_project(request: Request, body: ProjectIn) -> ProjectOut: ...
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from forum import __version__
from forum.web.errors import CODES, UserError, invalid_from_pydantic

Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class ApiOperation:
    method: str
    path: str
    summary: str
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    auth: bool
    errors: tuple[int, ...] = field(default=())
    tag: str = ""


class ApiRoute(Route):
    def __init__(self, operation: ApiOperation, endpoint: Callable[[Request], Awaitable[Response]]):
        super().__init__(operation.path, endpoint, methods=[operation.method])
        self.operation = operation


def api_route(
    method: str,
    path: str,
    *,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    auth: bool = True,
    errors: tuple[int, ...] = (),
    tag: str = "",
) -> Callable[[Handler], ApiRoute]:
    def decorate(handler: Handler) -> ApiRoute:
        summary = (handler.__doc__ or handler.__name__).strip().splitlines()[0]
        operation = ApiOperation(method, path, summary, body, response, status, auth,
                                 errors, tag)

        async def endpoint(request: Request) -> Response:
            args: list[Any] = [request]
            if body is not None:
                args.append(await parse_body(request, body))
            result = await handler(*args)
            if isinstance(result, Response):
                return result
            if result is None:
                return Response(status_code=204 if status == 200 else status)
            if response is not None and not isinstance(result, BaseModel):
                result = response.model_validate(result)
            payload = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
            return JSONResponse(payload, status_code=status)

        endpoint.__name__ = handler.__name__
        return ApiRoute(operation, endpoint)

    return decorate


async def parse_body(request: Request, model: type[BaseModel]) -> BaseModel:
    raw = await request.body()
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise UserError(400, "The request body is not valid JSON.", code="malformed_json") from None
    if not isinstance(data, dict):
        raise UserError(400, "The request body must be a JSON object.", code="malformed_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None


_CONVERTER = re.compile(r"{(\w+):\w+}")
_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "fields"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }},
}


def openapi_document(routes: list[BaseRoute], title: str) -> dict[str, Any]:
    """OpenAPI 3.1 built from the pydantic models of every ``ApiRoute``."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}

    def ref(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas[name] = definition
        schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    for route in routes:
        if not isinstance(route, ApiRoute):
            continue
        op = route.operation
        entry: dict[str, Any] = {"summary": op.summary, "operationId": route.name,
                                 "responses": {}}
        if op.tag:
            entry["tags"] = [op.tag]
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": ref(op.body)}}}
        success: dict[str, Any] = {"description": "OK"}
        if op.response is not None:
            success["content"] = {"application/json": {"schema": ref(op.response)}}
        entry["responses"][str(op.status)] = success
        statuses = set(op.errors) | ({400, 413, 422} if op.body is not None else set())
        if op.auth:
            statuses |= {401}
            entry["security"] = [{"bearer": []}, {"session": []}]
        for status in sorted(statuses):
            entry["responses"][str(status)] = {
                "description": CODES.get(status, "error"),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        # Starlette's "{id:int}" is "{id}" in OpenAPI, with the type on the parameter.
        path = _CONVERTER.sub(r"{\1}", op.path)
        parameters = [
            {"name": name, "in": "path", "required": True,
             "schema": {"type": "integer" if conv == "int" else "string"}}
            for name, conv in _PARAM.findall(op.path)
        ]
        if parameters:
            entry["parameters"] = parameters
        paths.setdefault(path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{title} API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "An API key created at /account/api-keys"},
                "session": {"type": "apiKey", "in": "cookie", "name": "forum_session"},
            },
        },
    }
