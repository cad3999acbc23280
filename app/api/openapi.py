"""The OpenAPI document, generated from the same pydantic models that validate requests."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema


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
    docs: list[tuple[str, str, Doc]] = []
    for rule in app.url_map.iter_rules():
        doc = getattr(app.view_functions.get(rule.endpoint), "_openapi", None)
        if doc is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            docs.append((_CONVERTER.sub(r"{\1}", rule.rule), method.lower(), doc))
    models = {ErrorResponse}
    for _, _, doc in docs:
        models.update(m for m in (doc.body, doc.response) if m is not None)
    _, defs = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                 ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, doc in sorted(docs, key=lambda d: (d[0], d[1])):
        paths.setdefault(path, {})[method] = _operation(path, doc)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _operation(path: str, doc: Doc) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": doc.summary, "tags": list(doc.tags), "responses": {}}
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
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
    op["responses"][str(doc.status)] = ok
    error_ref = {"application/json": {"schema": {"$ref": _REF.format(model="ErrorResponse")}}}
    statuses = set(doc.errors) | {400, 429} | ({401, 403} if doc.auth else set())
    for status in sorted(statuses):
        op["responses"][str(status)] = {"description": _reason(status),
                                        "content": error_ref}
    if doc.auth:
        op["security"] = [{"bearer": []}]
    op.update(doc.extra)
    return op


def _reason(status: int) -> str:
    return {400: "Invalid request", 401: "Missing or invalid token", 403: "Role or ownership missing",
            404: "Not found", 409: "Conflict", 413: "Too large", 415: "Unsupported media type",
            429: "Rate limited", 503: "Store unavailable, retry later"}.get(status, "Error")
