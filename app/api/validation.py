"""Parse request bodies and query strings with pydantic; failures become the contract's 400."""
from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from app.errors import BadRequest

M = TypeVar("M", bound=BaseModel)


def describe(exc: ValidationError) -> list[dict[str, str]]:
    """One `{field, problem}` per validation error, for the error body's details."""
    out = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(part) for part in err["loc"]) or "body"
        problem = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        out.append({"field": field, "problem": problem})
    return out


def summary(exc: ValidationError) -> str:
    """A one-line account of what failed validation."""
    return "; ".join(f"{d['field']}: {d['problem']}" for d in describe(exc))


def json_body() -> Any:
    """The decoded JSON body; 400 `malformed_json` when it does not parse."""
    raw = request.get_data(cache=True)
    if not raw:
        raise BadRequest("The request needs a JSON body.", code="malformed_json")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The body is not valid JSON.", code="malformed_json") from exc


def parse_body(model: type[M]) -> M:
    """Validate the JSON body against `model`; 400 `validation_error` naming each field."""
    data = json_body()
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.", code="validation_error")
    return validate(model, data)


def parse_query(model: type[M]) -> M:
    """Validate the query string against `model` (single values; repeated keys keep the last)."""
    return validate(model, {k: v for k, v in request.args.items()})


def validate(model: type[M], data: Any) -> M:
    """Validate `data` against `model`, raising the contract's 400."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(f"Invalid request: {summary(exc)}", code="validation_error",
                         details=describe(exc)) from exc
