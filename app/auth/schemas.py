"""Request and response shapes of the auth endpoints."""
from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,63}$")


class UserOut(BaseModel):
    """The contract's `user` object."""

    id: int
    username: str
    role: str


class RegisterRequest(BaseModel):
    """A new account: a username, a password of at least 8 characters, an optional email."""

    model_config = ConfigDict(extra="forbid")
    username: StrictStr = Field(min_length=3, max_length=32, pattern=USERNAME.pattern)
    password: StrictStr = Field(min_length=8, max_length=256)
    email: StrictStr | None = Field(default=None, max_length=254)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise ValueError("not a valid email address")
        return value

    @field_validator("password")
    @classmethod
    def _password(cls, value: str) -> str:
        if len(set(value)) < 4:
            raise ValueError("password is too weak: use at least 4 different characters")
        return value


class LoginRequest(BaseModel):
    """Credentials for a token."""

    model_config = ConfigDict(extra="forbid")
    username: StrictStr = Field(min_length=1, max_length=64)
    password: StrictStr = Field(min_length=1, max_length=256)


class TokenResponse(BaseModel):
    """A user and a token for them; `expires_in` is in seconds."""

    user: UserOut
    token: str
    expires_in: int


class MeResponse(BaseModel):
    """The signed-in user."""

    user: UserOut
