"""Typed WhatsApp failures, so the dispatcher acts on the class and never parses messages or HTTP statuses.

Hierarchy::

    WhatsAppError                 code, subcode, details, fbtrace_id, in_doubt
    ├── RetryNow                  transient, rejected before processing: resend when the limiter allows
    │   ├── NotSent               network failure before the request left us (connect refused/timeout)
    │   └── MediaChecksumMismatch downloaded bytes do not match Meta's sha256
    ├── RetryLater                transient, resend after ``retry_after`` seconds
    ├── StopAndAlert              account/token/template/policy problem: stop the sender, tell a human
    ├── PermanentFailure          this message will never succeed as built; record it and move on
    │   └── WindowClosed          free-form message refused before HTTP: 24 h window closed
    ├── InDoubt                   the request may have been accepted (timeout/reset after sending,
    │                             garbled answer): never resend blindly; reconcile from status
    │                             webhooks through ``biz_opaque_callback_data``
    └── InvalidMessage            payload breaks Meta's limits; raised before any HTTP call (also a
                                  ``ValueError``)

API errors carry ``in_doubt = False``: Meta answered with an error envelope, so nothing was accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from quita.whatsapp.domain.error_codes import Classification, ErrorClass, classify


class WhatsAppError(Exception):
    in_doubt = False

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        details: str | None = None,
        fbtrace_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status

    def __str__(self) -> str:
        parts = [self.message]
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.details:
            parts.append(f"details={self.details!r}")
        if self.fbtrace_id:
            parts.append(f"fbtrace_id={self.fbtrace_id}")
        return " ".join(parts)


class RetryNow(WhatsAppError):
    pass


class NotSent(RetryNow):
    pass


class MediaChecksumMismatch(RetryNow):
    pass


class RetryLater(WhatsAppError):
    def __init__(self, message: str, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class StopAndAlert(WhatsAppError):
    pass


class PermanentFailure(WhatsAppError):
    pass


class WindowClosed(PermanentFailure):
    def __init__(self, message: str, *, last_inbound_at: datetime | None) -> None:
        super().__init__(message)
        self.last_inbound_at = last_inbound_at


class InDoubt(WhatsAppError):
    in_doubt = True


class InvalidMessage(WhatsAppError, ValueError):
    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def error_from_classification(
    classification: Classification,
    message: str,
    *,
    code: int | None,
    subcode: int | None = None,
    details: str | None = None,
    fbtrace_id: str | None = None,
    http_status: int | None = None,
    retry_after_hint: float | None = None,
) -> WhatsAppError:
    kwargs: dict[str, Any] = {
        "code": code,
        "subcode": subcode,
        "details": details,
        "fbtrace_id": fbtrace_id,
        "http_status": http_status,
    }
    text = f"{message} ({classification.reason})"
    match classification.error_class:
        case ErrorClass.RETRY_NOW:
            return RetryNow(text, **kwargs)
        case ErrorClass.RETRY_LATER:
            wait = max(classification.retry_after or 0.0, retry_after_hint or 0.0)
            return RetryLater(text, retry_after=wait, **kwargs)
        case ErrorClass.PERMANENT:
            return PermanentFailure(text, **kwargs)
        case _:
            return StopAndAlert(text, **kwargs)


def error_from_envelope(
    body: Mapping[str, Any], *, http_status: int | None = None, retry_after_hint: float | None = None
) -> WhatsAppError | None:
    """Turn Meta's ``{"error": {...}}`` envelope into a typed error; ``None`` if there is no envelope."""
    error = body.get("error")
    if not isinstance(error, Mapping):
        return None
    code = _as_int(error.get("code"))
    error_data = error.get("error_data")
    details = (_as_str(error_data.get("details")) if isinstance(error_data, Mapping) else None) or None
    message = _as_str(error.get("message")) or _as_str(error.get("error_user_msg")) or "WhatsApp API error"
    return error_from_classification(
        classify(code, details),
        message,
        code=code,
        subcode=_as_int(error.get("error_subcode")),
        details=details,
        fbtrace_id=_as_str(error.get("fbtrace_id")),
        http_status=http_status,
        retry_after_hint=retry_after_hint,
    )
