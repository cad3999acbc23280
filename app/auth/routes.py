"""Auth endpoints: register, login, me."""
from flask import Blueprint, jsonify

from app.api.openapi import documented
from app.api.validation import parse_body
from app.auth.guard import current_user, require_user
from app.auth.schemas import LoginRequest, MeResponse, RegisterRequest, TokenResponse
from app.services import services

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


@bp.post("/register")
@documented("Create an account (role user) and get a token", tags=("auth",), body=RegisterRequest,
            response=TokenResponse, status=201, auth=False, errors=(409,))
def register():  # type: ignore[no-untyped-def]
    body = parse_body(RegisterRequest)
    auth = services().auth
    user = auth.create_user(body.username, body.password, "user", body.email)
    return jsonify(auth.token_for(user)), 201


@bp.post("/login")
@documented("Exchange credentials for a token", tags=("auth",), body=LoginRequest,
            response=TokenResponse, auth=False, errors=(401,))
def login():  # type: ignore[no-untyped-def]
    body = parse_body(LoginRequest)
    auth = services().auth
    return jsonify(auth.token_for(auth.authenticate(body.username, body.password)))


@bp.get("/me")
@require_user()
@documented("The signed-in user", tags=("auth",), response=MeResponse)
def me():  # type: ignore[no-untyped-def]
    return jsonify({"user": current_user().public()})
