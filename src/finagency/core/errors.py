"""The one error hierarchy: every expected failure is an AppError with a status and a stable code.

    AppError (500, "internal")
    ├── BadRequest (400, "bad_request")
    │   └── ValidationFailed (422, "validation_failed")
    ├── NotAuthenticated (401, "not_authenticated")
    ├── Forbidden (403, "forbidden")
    ├── NotFound (404, "not_found")
    ├── Conflict (409, "conflict")
    │   └── InvalidTransition (409, "invalid_transition")
    ├── RateLimited (429, "rate_limited")
    └── ExternalError (502, "external_error")       raised by integrations, typed by cause
        ├── TransientExternalError                  retry with backoff
        ├── RateLimitedExternalError                snooze until reset_at, attempt not counted
        ├── AuthExpiredError                        credentials dead: pause, tell a person
        └── PermanentExternalError                  rejected: dead-letter at once with the reason

Services raise these; the web edge turns them into one JSON shape, the queue turns the
external ones into retry decisions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar


class AppError(Exception):
    """Base of every expected failure; carries an HTTP status and a stable machine code."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class BadRequest(AppError):
    status_code = 400
    code = "bad_request"


class ValidationFailed(BadRequest):
    status_code = 422
    code = "validation_failed"


class NotAuthenticated(AppError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"


class ExternalError(AppError):
    """A call to an outside service failed; subclasses say what to do about it."""

    status_code = 502
    code = "external_error"


class TransientExternalError(ExternalError):
    """Timeouts, 5xx, connection resets: worth retrying with backoff."""

    code = "external_transient"


class RateLimitedExternalError(ExternalError):
    """The service asked us to slow down; wait until ``reset_at`` (if known)."""

    code = "external_rate_limited"

    def __init__(
        self,
        message: str,
        *,
        reset_at: datetime | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.reset_at = reset_at


class AuthExpiredError(ExternalError):
    """Credentials were refused; retrying will not help until a person reconnects."""

    code = "external_auth_expired"


class PermanentExternalError(ExternalError):
    """The service rejected the request itself (validation, policy); never retry as is."""

    code = "external_rejected"
