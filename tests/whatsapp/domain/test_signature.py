from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quita.whatsapp.domain.signature import (
    BadSignature,
    MissingSignature,
    compute_signature,
    verify_signature,
)

SECRET = "app-secret-123"
BODY = '{"object":"whatsapp_business_account","entry":[{"id":"1","text":"Olá"}]}'.encode()


def test_compute_matches_an_independent_hmac() -> None:
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert compute_signature(BODY, SECRET) == "sha256=" + expected


def test_valid_signature_passes_and_uppercase_hex_or_prefix_is_tolerated() -> None:
    header = compute_signature(BODY, SECRET)
    verify_signature(BODY, header, SECRET)
    verify_signature(BODY, "SHA256=" + header[7:].upper(), SECRET)
    verify_signature(BODY, f"  {header}  ", SECRET)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing(header: str | None) -> None:
    with pytest.raises(MissingSignature):
        verify_signature(BODY, header, SECRET)


def test_bad_formats() -> None:
    good = compute_signature(BODY, SECRET)
    digest = good[7:]
    cases = [
        digest,  # no prefix
        "sha1=" + digest,  # wrong algorithm
        "sha256=" + digest[:-1],  # too short
        "sha256=" + digest + "0",  # too long
        "sha256=" + "z" * 64,  # not hex
        "sha256=" + ("0" if digest[0] != "0" else "1") + digest[1:],  # wrong hex
        "sha256=",
    ]
    for header in cases:
        with pytest.raises(BadSignature):
            verify_signature(BODY, header, SECRET)


def test_signature_is_over_raw_bytes_not_reserialised_json() -> None:
    header = compute_signature(BODY, SECRET)
    reserialised = BODY.replace("Olá".encode(), b"Ol\\u00e1")
    with pytest.raises(BadSignature):
        verify_signature(reserialised, header, SECRET)


def test_wrong_secret_and_empty_secret() -> None:
    header = compute_signature(BODY, SECRET)
    with pytest.raises(BadSignature):
        verify_signature(BODY, header, "other")
    with pytest.raises(BadSignature):
        verify_signature(BODY, compute_signature(BODY, ""), "")


@given(body=st.binary(max_size=200), secret=st.text(min_size=1, max_size=20))
def test_roundtrip_and_tamper(body: bytes, secret: str) -> None:
    header = compute_signature(body, secret)
    verify_signature(body, header, secret)
    with pytest.raises(BadSignature):
        verify_signature(body + b"x", header, secret)
