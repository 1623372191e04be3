from __future__ import annotations

import pytest

from quita.whatsapp.domain.error_codes import ErrorClass, classify
from quita.whatsapp.domain.errors import (
    InvalidMessage,
    PermanentFailure,
    RetryLater,
    RetryNow,
    StopAndAlert,
    WhatsAppError,
    error_from_envelope,
)

NOW, LATER, STOP, PERM = (
    ErrorClass.RETRY_NOW,
    ErrorClass.RETRY_LATER,
    ErrorClass.STOP_AND_ALERT,
    ErrorClass.PERMANENT,
)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (130429, NOW),
        (131056, LATER),
        (4, LATER),
        (80007, LATER),
        (131000, LATER),
        (131016, LATER),
        (133004, LATER),
        (131057, LATER),
        (131048, STOP),
        (131049, STOP),
        (368, STOP),
        (131042, STOP),
        (131031, STOP),
        (190, STOP),
        (10, STOP),
        (200, STOP),
        (299, STOP),
        (132001, STOP),
        (132015, STOP),
        (132016, STOP),
        (132000, STOP),
        (132999, STOP),
        (131047, PERM),
        (470, PERM),
        (131026, PERM),
        (131050, PERM),
        (131051, PERM),
        (131053, PERM),
        (130472, PERM),
        (132005, PERM),
        (132012, PERM),
        (100, PERM),
    ],
)
def test_table(code: int, expected: ErrorClass) -> None:
    assert classify(code).error_class is expected


def test_pair_rate_limit_waits_six_seconds() -> None:
    assert classify(131056).retry_after == 6.0


def test_unknown_codes_stop_and_alert() -> None:
    for code in (999999, 555, None):
        assert classify(code).error_class is STOP


def test_details_refinements() -> None:
    transient = classify(
        131053, "Media upload error: Downloading media from weblink failed with http code 503"
    )
    assert transient.error_class is LATER
    assert classify(131053, "Downloading media from weblink failed with http code 429").error_class is LATER
    assert (
        classify(131053, "Downloading media from weblink failed with http code 404, Not Found").error_class
        is PERM
    )
    config = classify(100, "Unsupported post request. Object with ID '123' does not exist, cannot be loaded")
    assert config.error_class is STOP
    assert classify(100, "Invalid parameter").error_class is PERM
    assert classify(131000, "Unsupported webhook payload").error_class is PERM


def _envelope(code: object, details: str | None = None, **extra: object) -> dict[str, object]:
    error: dict[str, object] = {
        "message": f"(#{code}) title",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
        **extra,
    }
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


def test_envelope_to_typed_exception() -> None:
    error = error_from_envelope(
        _envelope(130429, "Cloud API message throughput has been reached.", error_subcode=2494055),
        http_status=400,
    )
    assert isinstance(error, RetryNow)
    assert (error.code, error.subcode, error.fbtrace_id, error.http_status) == (
        130429,
        2494055,
        "Az8or2yhqkZfEZ-_4Qn_Bam",
        400,
    )
    assert error.details == "Cloud API message throughput has been reached."
    assert not error.in_doubt
    later = error_from_envelope(_envelope("131056"), retry_after_hint=30)
    assert isinstance(later, RetryLater) and later.retry_after == 30 and later.code == 131056
    assert isinstance(error_from_envelope(_envelope(368)), StopAndAlert)
    assert isinstance(error_from_envelope(_envelope(131047)), PermanentFailure)
    assert error_from_envelope({"data": []}) is None
    assert isinstance(error_from_envelope({"error": {}}), StopAndAlert)  # no code: conservative


def test_classification_ignores_http_status() -> None:
    for status in (200, 400, 403, 429, 500, 503):
        assert isinstance(error_from_envelope(_envelope(131026), http_status=status), PermanentFailure)


def test_invalid_message_is_a_value_error_and_names_the_field() -> None:
    error = InvalidMessage("interactive.buttons", "needs 1 to 3 buttons")
    assert isinstance(error, ValueError) and isinstance(error, WhatsAppError)
    assert "interactive.buttons" in str(error)
