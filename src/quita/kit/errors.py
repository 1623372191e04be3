"""Errors that cross a boundary. Each carries a stable machine code and a message for people.

Hierarchy::

    QuitaError
    ├── NotFound          (404)
    ├── Unauthorized      (401)
    ├── Conflict          (409)
    └── InvalidInput      (422)
"""

from __future__ import annotations

from typing import Any


class QuitaError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class NotFound(QuitaError):
    status_code = 404
    code = "not_found"


class Unauthorized(QuitaError):
    status_code = 401
    code = "unauthorized"


class Conflict(QuitaError):
    status_code = 409
    code = "conflict"


class InvalidInput(QuitaError):
    status_code = 422
    code = "invalid_input"
