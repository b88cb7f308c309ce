"""Typed domain errors. Each carries a message key; adapters map them in one place."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An expected refusal: the user did something the rules do not allow."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(self.key)


class InvalidInput(DomainError):
    key = "error.invalid_input"


class NotFound(DomainError):
    key = "error.not_found"


class PermissionDenied(DomainError):
    key = "error.permission_denied"


class Conflict(DomainError):
    key = "error.conflict"
