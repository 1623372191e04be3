"""``X-Hub-Signature-256`` checks: the only proof that a webhook POST really comes from Meta.

The HMAC is over the raw request bytes (re-serialised JSON would escape differently), keyed with the
App Secret. Finding the header (names are case-insensitive behind proxies) is the caller's job; this
module only judges its value. The simulator signs with :func:`compute_signature` so both sides agree.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="
_HEX_DIGITS = frozenset("0123456789abcdef")


class SignatureError(Exception):
    pass


class MissingSignature(SignatureError):
    pass


class BadSignature(SignatureError):
    pass


def compute_signature(raw_body: bytes, app_secret: str) -> str:
    """The full header value, ``sha256=<64 lowercase hex>``."""
    digest = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return PREFIX + digest


def verify_signature(raw_body: bytes, header_value: str | None, app_secret: str) -> None:
    """Raise :class:`MissingSignature` or :class:`BadSignature` unless the header signs ``raw_body``."""
    if not app_secret:
        raise BadSignature("no app secret configured: cannot verify webhook signatures")
    if header_value is None or not header_value.strip():
        raise MissingSignature("X-Hub-Signature-256 header is missing")
    value = header_value.strip()
    if not value.lower().startswith(PREFIX):
        raise BadSignature("signature must start with 'sha256='")
    received = value[len(PREFIX) :].lower()
    if len(received) != 64 or not set(received) <= _HEX_DIGITS:
        raise BadSignature("signature must be 64 hexadecimal digits after 'sha256='")
    expected = compute_signature(raw_body, app_secret)[len(PREFIX) :]
    if not hmac.compare_digest(received.encode("ascii"), expected.encode("ascii")):
        raise BadSignature("signature does not match the request body")
