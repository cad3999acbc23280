"""The OpenAPI document, generated from the same pydantic models that validate requests."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.routing import Rule
from werkzeug.routing.converters import IntegerConverter


_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>")
_REF = "#/components/schemas/{model}"


@dataclass
class Doc:
    """What a view declares about itself: its summary, models and auth."""

    summary: str
    tags: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    also: tuple[int, ...] = ()  # other success statuses answered with the same body (e.g. 200 beside 201)
    auth: bool = True
    errors: tuple[int, ...] = ()
    content_type: str = "application/json"
    extra: dict[str, Any] = field(default_factory=dict)


def documented(summary: str, **kwargs: Any) -> Callable:
    """Attach a Doc to a view so the OpenAPI builder can find it."""

    def decorate(view: Callable) -> Callable:
        view._openapi = Doc(summary=summary, **kwargs)  # type: ignore[attr-defined]
        return view

    return decorate


class ErrorDetail(BaseModel):
    """The inner part of every error body."""

    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """Every HTTP error: `{"error": {code, message, details?}}`."""

    error: ErrorDetail


def build_openapi(app: Flask, title: str, version: str) -> dict[str, Any]:
    """Walk the URL map and describe every documented view."""
    docs: list[tuple[str, str, Doc, Rule]] = []
    for rule in app.url_map.iter_rules():
        doc = getattr(app.view_functions.get(rule.endpoint), "_openapi", None)
        if doc is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            docs.append((_CONVERTER.sub(r"{\1}", rule.rule), method.lower(), doc, rule))
    models = {ErrorResponse}
    for _, _, doc, _ in docs:
        models.update(m for m in (doc.body, doc.response) if m is not None)
    _, defs = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                 ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, doc, rule in sorted(docs, key=lambda d: (d[0], d[1])):
        paths.setdefault(path, {})[method] = _operation(path, doc, rule)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _path_schema(rule: Rule, name: str) -> dict[str, Any]:
    """What the URL converter accepts: `<int:x>` a non-negative integer, otherwise a non-empty segment."""
    if isinstance(rule._converters.get(name), IntegerConverter):
        return {"type": "integer", "minimum": 0}
    return {"type": "string", "minLength": 1}


def _operation(path: str, doc: Doc, rule: Rule) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": doc.summary, "tags": list(doc.tags), "responses": {}}
    params = [{"name": n, "in": "path", "required": True, "schema": _path_schema(rule, n)}
              for n in re.findall(r"{(\w+)}", path)]
    if doc.query is not None:
        schema = doc.query.model_json_schema(ref_template=_REF)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    if params:
        op["parameters"] = params
    if doc.body is not None:
        op["requestBody"] = {"required": True, "content": {
            doc.content_type: {"schema": {"$ref": _REF.format(model=doc.body.__name__)}}}}
    elif doc.content_type != "application/json":
        op["requestBody"] = {"required": True, "content": {doc.content_type: {"schema": {}}}}
    ok: dict[str, Any] = {"description": "OK"}
    if doc.response is not None:
        ok["content"] = {"application/json": {"schema": {"$ref": _REF.format(model=doc.response.__name__)}}}
    for status in (doc.status, *doc.also):
        op["responses"][str(status)] = ok
    error_ref = {"application/json": {"schema": {"$ref": _REF.format(model="ErrorResponse")}}}
    statuses = set(doc.errors) | {400, 429} | ({401, 403} if doc.auth else set())
    if "requestBody" in op:
        statuses.add(413)  # MAX_CONTENT_LENGTH (1 MiB) applies to every body
    if any(isinstance(c, IntegerConverter) for c in rule._converters.values()):
        statuses.add(404)  # the router answers 404 when a number-only segment is not a number
    for status in sorted(statuses):
        op["responses"][str(status)] = {"description": _reason(status),
                                        "content": error_ref}
    if params:  # gunicorn refuses a request line over 4094 bytes before the app sees it (an HTML body)
        op["responses"]["414"] = {"description": "URI too long: the request line is over 4094 bytes"}
    if doc.auth:
        op["security"] = [{"bearer": []}]
    op.update(doc.extra)
    return op


def _reason(status: int) -> str:
    return {400: "Invalid request", 401: "Missing or invalid token", 403: "Role or ownership missing",
            404: "Not found", 409: "Conflict", 413: "Too large", 415: "Unsupported media type",
            429: "Rate limited", 503: "Store unavailable, retry later"}.get(status, "Error")
