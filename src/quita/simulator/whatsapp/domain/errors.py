"""Meta's error envelope and the codes the simulator produces.

Clients are told to branch on ``code`` and ``error_data.details`` (never on titles or HTTP status), so the
simulator reproduces exactly those two, plus the HTTP status Meta's table gives, so retry logic is exercised
the way production exercises it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

ERROR_DOCS_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


def fbtrace_id() -> str:
    """A random id shaped like Meta's ``fbtrace_id`` (27 url-safe characters)."""
    return secrets.token_urlsafe(20)[:27]


@dataclass
class GraphError(Exception):
    """A synchronous Graph API error: raised by validation, rendered as Meta's envelope."""

    code: int
    message: str
    details: str
    http_status: int = 400
    error_type: str = "OAuthException"
    subcode: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
            "error_data": {"messaging_product": "whatsapp", "details": self.details},
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}


def invalid_parameter(details: str) -> GraphError:
    return GraphError(100, "(#100) Invalid parameter", details)


def required_parameter(name: str) -> GraphError:
    return GraphError(100, f"(#100) The parameter {name} is required.", f"The parameter {name} is required.")


def missing_required(details: str) -> GraphError:
    return GraphError(131008, "(#131008) Required parameter is missing", details)


def invalid_value(details: str) -> GraphError:
    return GraphError(131009, "(#131009) Parameter value is not valid", details)


def bad_token() -> GraphError:
    return GraphError(
        190,
        "Invalid OAuth access token - Cannot parse access token",
        "The access token is invalid or has expired.",
        http_status=401,
    )


def unknown_object(object_id: str, method: str) -> GraphError:
    verb = "post" if method == "POST" else "get"
    return GraphError(
        100,
        f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation. Please read the Graph API documentation "
        "at https://developers.facebook.com/docs/graph-api",
        f"Object with ID '{object_id}' does not exist.",
        error_type="GraphMethodException",
        subcode=33,
    )


def unknown_path(path: str) -> GraphError:
    return GraphError(2500, f"Unknown path components: {path}", "Unknown path components.")


def throughput_reached() -> GraphError:
    return GraphError(130429, "(#130429) Rate limit hit", "Cloud API message throughput has been reached.")


def pair_rate_limited() -> GraphError:
    return GraphError(
        131056,
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number to the "
        "same phone number in a short period of time.",
    )


def template_not_found(name: str, language: str) -> GraphError:
    return GraphError(
        132001,
        "(#132001) Template name does not exist in the translation",
        f"template name ({name}) does not exist in {language}",
        http_status=404,
    )


def template_param_mismatch(component: str, given: int, expected: int) -> GraphError:
    return GraphError(
        132000,
        "(#132000) Number of parameters does not match the expected number of params",
        f"{component}: number of localizable_params ({given}) does not match the expected number of params "
        f"({expected})",
    )


def template_param_format(details: str) -> GraphError:
    return GraphError(
        132012, "(#132012) Parameter format does not match format in the created template", details
    )


def unsupported_type(message_type: str) -> GraphError:
    return GraphError(
        131051, "(#131051) Unsupported message type", f"Message type {message_type} is not supported."
    )


def server_error() -> GraphError:
    return GraphError(131000, "(#131000) Something went wrong", "Something went wrong.", http_status=500)


def service_unavailable() -> GraphError:
    return GraphError(
        131016, "(#131016) Service unavailable", "A service is temporarily unavailable.", http_status=503
    )


# Asynchronous failures (``statuses[].errors[]`` of a ``failed`` status webhook).
STATUS_ERRORS: dict[int, tuple[str, str]] = {
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to "
        "this number.",
    ),
    131026: (
        "Message undeliverable",
        "Unable to deliver message. Reasons can include: The recipient phone number is not a WhatsApp phone "
        "number; The recipient has not accepted our new Terms of Service and Privacy Policy; The recipient "
        "is using an old WhatsApp version.",
    ),
}


def status_error(code: int) -> dict[str, Any]:
    title, details = STATUS_ERRORS[code]
    return {"code": code, "title": title, "message": title, "error_data": {"details": details}}
