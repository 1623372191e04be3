"""Which Cloud API error codes may be retried, and how: the dispatcher's single source of truth.

Meta asks integrators to build logic on ``code`` plus ``error_data.details`` and never on the HTTP status
or the title (titles are being deprecated, HTTP statuses differ between codes and proxies). The table
follows §3 of ``shared/reference/whatsapp-cloud-api.md``.

The four classes answer "what must the dispatcher do with THIS message now":

* ``retry_now``      – Meta rejected the request before processing it because of a transient
                       throughput condition; requeue as soon as the per-number rate limiter allows.
* ``retry_later``    – transient, but only after ``retry_after`` seconds (pair-rate limit, app/WABA
                       rate limits, service unavailable, generic 131000).
* ``stop_and_alert`` – the account, token, template or policy standing is at stake; retrying makes it
                       worse. Stop the campaign/number and tell a human.
* ``permanent``      – this message (or this recipient) will never succeed as sent; record and move on
                       (e.g. send a template instead of free-form, mark "no WhatsApp").

Unknown codes default to ``stop_and_alert``: an error nobody has classified yet could be account-level,
and silently retrying or silently dropping messages are both worse than a human look.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class ErrorClass(StrEnum):
    RETRY_NOW = "retry_now"
    RETRY_LATER = "retry_later"
    STOP_AND_ALERT = "stop_and_alert"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class Classification:
    error_class: ErrorClass
    reason: str
    retry_after: float | None = None  # seconds; set for retry_later only


_NOW = ErrorClass.RETRY_NOW
_LATER = ErrorClass.RETRY_LATER
_STOP = ErrorClass.STOP_AND_ALERT
_PERM = ErrorClass.PERMANENT

# code -> (class, reason, retry_after seconds)
ERROR_TABLE: dict[int, tuple[ErrorClass, str, float | None]] = {
    # Throughput and rate limits: rejected before processing, safe to resend.
    130429: (_NOW, "throughput limit of the business number reached", None),
    131056: (_LATER, "pair rate limit: too many messages to the same recipient", 6.0),
    4: (_LATER, "app reached its API call rate limit", 60.0),
    80007: (_LATER, "WhatsApp Business Account reached its rate limit", 300.0),
    # Meta-side trouble.
    131000: (_LATER, "something went wrong at Meta (generic); retry a limited number of times", 60.0),
    1: (_LATER, "unknown API error at Meta", 60.0),
    2: (_LATER, "API service temporarily unavailable", 30.0),
    131016: (_LATER, "service unavailable", 30.0),
    133004: (_LATER, "server temporarily unavailable", 30.0),
    131057: (_LATER, "business account in maintenance mode", 3600.0),
    # Account / policy / token: stop the sender and alert.
    131048: (_STOP, "spam rate limit: earlier messages were blocked or flagged as spam", None),
    131049: (
        _STOP,
        "per-user marketing cap (template treated as marketing); check the template category",
        None,
    ),
    368: (_STOP, "temporarily blocked for policy violations", None),
    131031: (_STOP, "business account locked", None),
    131042: (_STOP, "business eligibility payment issue", None),
    131005: (_STOP, "access denied (permissions)", None),
    131064: (_STOP, "messaging limit blocked by template classification violations", None),
    130497: (_STOP, "business account restricted from messaging users in this country", None),
    133010: (_STOP, "phone number not registered on the Cloud API", None),
    0: (_STOP, "authentication exception", None),
    3: (_STOP, "API method capability or permission issue", None),
    10: (_STOP, "permission denied", None),
    102: (_STOP, "API session invalid", None),
    190: (_STOP, "access token expired or invalid", None),
    # Template-level problems: every message using the template will fail the same way.
    132000: (_STOP, "template parameter count does not match the approved template", None),
    132001: (_STOP, "template does not exist in this language or is not approved", None),
    132015: (_STOP, "template paused for low quality", None),
    132016: (_STOP, "template disabled", None),
    # This message or this recipient only.
    131047: (
        _PERM,
        "customer-service window closed (more than 24 h since the last reply); send a template",
        None,
    ),
    470: (_PERM, "customer-service window closed (legacy code of 131047); send a template", None),
    131026: (_PERM, "message undeliverable (not on WhatsApp, terms not accepted, old client...)", None),
    131050: (_PERM, "user stopped marketing messages", None),
    131051: (_PERM, "unsupported message type", None),
    131052: (_PERM, "media download error", None),
    131053: (_PERM, "media upload error", None),
    131008: (_PERM, "required parameter missing", None),
    131009: (_PERM, "parameter value not valid", None),
    131021: (_PERM, "recipient cannot be the sender", None),
    131030: (_PERM, "recipient not in the allowed list (test number)", None),
    130472: (_PERM, "recipient's number is part of a Meta experiment", None),
    132005: (_PERM, "template hydrated text too long", None),
    132007: (_PERM, "template format character policy violated by a parameter", None),
    132008: (_PERM, "template parameter value type mismatch", None),
    132012: (_PERM, "template parameter format mismatch", None),
    100: (_PERM, "invalid parameter", None),
}

DEFAULT_CLASSIFICATION = Classification(_STOP, "unclassified error code: stop and let a human decide")

_HTTP_CODE = re.compile(r"http code (\d{3})", re.IGNORECASE)


def classify(code: int | None, details: str | None = None) -> Classification:
    """Classify one Cloud API error by ``code``, refined by ``error_data.details``."""
    refined = _refine(code, (details or "").lower())
    if refined is not None:
        return refined
    if code is not None and code in ERROR_TABLE:
        error_class, reason, retry_after = ERROR_TABLE[code]
        return Classification(error_class, reason, retry_after)
    if code is not None and 200 <= code <= 299:
        return Classification(_STOP, "permission error (2xx family)")
    if code is not None and 132000 <= code <= 132999:
        return Classification(_STOP, "unclassified template error: template-level until proven otherwise")
    return DEFAULT_CLASSIFICATION


def _refine(code: int | None, details: str) -> Classification | None:
    """Cases where ``details`` changes the answer for a code."""
    if not details:
        return None
    if code == 131053:
        # "Downloading media from weblink failed with http code 503 ..." : our media host hiccuped.
        match = _HTTP_CODE.search(details)
        if (match and (match.group(1) == "429" or match.group(1).startswith("5"))) or "timed out" in details:
            return Classification(_LATER, "media host temporarily failed while Meta fetched the link", 60.0)
    if code == 100 and ("does not exist" in details or "missing permissions" in details):
        # Wrong phone_number_id / object or a token without access: configuration, not this message.
        return Classification(_STOP, "object does not exist or token lacks permission (configuration)")
    if code == 131000 and "unsupported webhook payload" in details:
        return Classification(_PERM, "Meta could not represent an inbound payload (webhook-only error)")
    return None
