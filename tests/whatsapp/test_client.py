"""WhatsAppClient against a real HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest

from quita.whatsapp.client import (
    InDoubt,
    InvalidMessage,
    MediaChecksumMismatch,
    NotSent,
    PermanentFailure,
    RetryLater,
    RetryNow,
    StopAndAlert,
    WhatsAppClient,
    WindowClosed,
)
from quita.whatsapp.domain.messages import (
    CurrencyParam,
    ReplyButton,
    ReplyButtonsMessage,
    TemplateMessage,
    TextMessage,
    TextParam,
)
from tests.whatsapp.loopback import (
    FakeGraph,
    Scripted,
    free_port_with_nothing_listening,
    serve_fake_graph,
    serve_hang_up,
)

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
PNID = "1122334455667"
TEMPLATE = TemplateMessage(name="lembrete_vencimento", body=(TextParam("Maria"), CurrencyParam(15000)))
T = TypeVar("T")


@pytest.fixture(scope="module")
def _server() -> Iterator[FakeGraph]:
    with serve_fake_graph() as graph:
        yield graph


@pytest.fixture
def graph(_server: FakeGraph) -> FakeGraph:
    _server.reset()
    return _server


def _run(graph_url: str, action: Callable[[WhatsAppClient], Awaitable[T]], **kwargs: Any) -> T:
    async def main() -> T:
        async with WhatsAppClient(
            phone_number_id=PNID,
            access_token="test-token",
            graph_url=graph_url,
            clock=lambda: NOW,
            **kwargs,
        ) as client:
            return await action(client)

    return asyncio.run(main())


def _envelope(code: int, details: str = "", message: str = "error") -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
        }
    }


# --------------------------------------------------------------------------- success paths


def test_template_send_returns_wamid_and_canonical_wa_id(graph: FakeGraph) -> None:
    result = _run(graph.url, lambda c: c.send("+55 47 99719-2447", TEMPLATE, callback_data="our-msg-1"))
    assert result.wamid == "wamid.TEST1"
    assert result.wa_id == "554797192447"  # the legacy id Meta knows, to be stored on the contact
    assert result.input == "5547997192447"
    assert result.message_status == "accepted"
    [request] = graph.requests
    assert request["path"] == f"/v25.0/{PNID}/messages"
    assert request["headers"]["authorization"] == "Bearer test-token"
    assert request["headers"]["content-type"] == "application/json"
    assert request["json"]["biz_opaque_callback_data"] == "our-msg-1"
    assert request["json"]["template"]["language"] == {"policy": "deterministic", "code": "pt_BR"}


def test_a_prebuilt_template_payload_goes_out_as_send_would_send_it(graph: FakeGraph) -> None:
    """The dispatcher builds the body once and sends it with ``send_template_payload``."""
    from quita.whatsapp.domain.messages import build_message_payload

    payload = build_message_payload("+55 47 99719-2447", TEMPLATE, biz_opaque_callback_data="our-msg-2")
    result = _run(graph.url, lambda c: c.send_template_payload(payload))
    _run(graph.url, lambda c: c.send("+55 47 99719-2447", TEMPLATE, callback_data="our-msg-2"))
    assert result.wamid.startswith("wamid.")
    first, second = graph.requests
    assert first["json"] == second["json"] == payload
    assert first["headers"]["host"] == second["headers"]["host"] == graph.url.removeprefix("http://")
    free_form = build_message_payload("+5547997192447", TextMessage("oi"), biz_opaque_callback_data="x")
    with pytest.raises(InvalidMessage):  # free-form needs send(): the 24 h window is checked there
        _run(graph.url, lambda c: c.send_template_payload(free_form))
    assert len(graph.requests) == 2


def test_api_version_is_configurable(graph: FakeGraph) -> None:
    _run(graph.url, lambda c: c.send("5511988887777", TEMPLATE, callback_data="m"), api_version="v23.0")
    assert graph.requests[0]["path"] == f"/v23.0/{PNID}/messages"


def test_free_form_inside_the_window_goes_out(graph: FakeGraph) -> None:
    message = ReplyButtonsMessage(body="Como deseja pagar?", buttons=(ReplyButton("pix", "Pix"),))
    result = _run(
        graph.url,
        lambda c: c.send(
            "5511988887777", message, callback_data="m2", last_inbound_at=NOW - timedelta(hours=23)
        ),
    )
    assert result.wamid.startswith("wamid.")
    assert graph.requests[0]["json"]["interactive"]["type"] == "button"


def test_mark_read_with_typing_indicator(graph: FakeGraph) -> None:
    _run(graph.url, lambda c: c.mark_read("wamid.IN", typing_indicator=True))
    assert graph.requests[0]["json"] == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN",
        "typing_indicator": {"type": "text"},
    }


def test_media_upload_then_download_with_redirect_and_checksum(graph: FakeGraph) -> None:
    pdf = b"%PDF-1.4 boleto " + bytes(range(256)) * 50

    async def roundtrip(client: WhatsAppClient) -> Any:
        media_id = await client.upload_media(pdf, mime_type="application/pdf", filename="boleto.pdf")
        return media_id, await client.download_media(media_id)

    media_id, downloaded = _run(graph.url, roundtrip)
    assert graph.media[media_id] == (pdf, "application/pdf")
    assert downloaded.content == pdf
    assert downloaded.mime_type == "application/pdf"
    assert downloaded.sha256_verified
    upload = graph.requests[0]
    assert upload["path"] == f"/v25.0/{PNID}/media"
    assert upload["form"]["messaging_product"] == "whatsapp"
    assert upload["form"]["type"] == "application/pdf"
    assert graph.requests[-1]["headers"]["authorization"] == "Bearer test-token"  # same origin after redirect


def test_download_with_base64_hash_and_with_a_wrong_hash(graph: FakeGraph) -> None:
    import base64

    graph.media["77"] = (b"audio-bytes", "audio/ogg")
    graph.advertised_sha256["77"] = base64.b64encode(hashlib.sha256(b"audio-bytes").digest()).decode()
    assert _run(graph.url, lambda c: c.download_media("77")).sha256_verified
    graph.advertised_sha256["77"] = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(MediaChecksumMismatch):
        _run(graph.url, lambda c: c.download_media("77"))


def test_unknown_media_id_is_a_configuration_error(graph: FakeGraph) -> None:
    with pytest.raises(StopAndAlert) as caught:
        _run(graph.url, lambda c: c.download_media("424242"))
    assert caught.value.code == 100


def test_upload_limits_are_checked_before_http(graph: FakeGraph) -> None:
    with pytest.raises(InvalidMessage, match="image limit"):
        _run(
            graph.url,
            lambda c: c.upload_media(b"x" * (5 * 1024 * 1024 + 1), mime_type="image/png", filename="a.png"),
        )
    with pytest.raises(InvalidMessage, match="empty"):
        _run(graph.url, lambda c: c.upload_media(b"", mime_type="application/pdf", filename="a.pdf"))
    assert graph.requests == []


# --------------------------------------------------------------------------- refused before HTTP


def test_window_closed_refuses_free_form_before_any_http(graph: FakeGraph) -> None:
    with pytest.raises(WindowClosed) as caught:
        _run(
            graph.url,
            lambda c: c.send(
                "5511988887777",
                TextMessage("Oi"),
                callback_data="m",
                last_inbound_at=NOW - timedelta(hours=25),
            ),
        )
    assert caught.value.last_inbound_at == NOW - timedelta(hours=25)
    with pytest.raises(WindowClosed):
        _run(graph.url, lambda c: c.send("5511988887777", TextMessage("Oi"), callback_data="m"))
    assert graph.requests == []
    # A template needs no window.
    _run(graph.url, lambda c: c.send("5511988887777", TEMPLATE, callback_data="m"))
    assert len(graph.requests) == 1


def test_invalid_recipient_never_reaches_http(graph: FakeGraph) -> None:
    with pytest.raises(InvalidMessage, match="to"):
        _run(graph.url, lambda c: c.send("abc", TEMPLATE, callback_data="m"))
    assert graph.requests == []


# --------------------------------------------------------------------------- error classes


@pytest.mark.parametrize(
    ("status", "code", "details", "expected"),
    [
        (400, 130429, "Cloud API message throughput has been reached.", RetryNow),
        (400, 131056, "", RetryLater),
        (429, 4, "", RetryLater),
        (500, 131000, "Something went wrong", RetryLater),
        (400, 131048, "", StopAndAlert),
        (403, 368, "Temporarily blocked for policies violations", StopAndAlert),
        (401, 190, "Error validating access token", StopAndAlert),
        (400, 131042, "", StopAndAlert),
        (404, 132001, "template name does not exist in pt_BR", StopAndAlert),
        (400, 131047, "", PermanentFailure),
        (400, 131026, "", PermanentFailure),
        (200, 131026, "", PermanentFailure),  # status code is irrelevant: code decides
        (400, 100, "Invalid parameter", PermanentFailure),
    ],
)
def test_error_envelopes_become_typed_exceptions(
    graph: FakeGraph, status: int, code: int, details: str, expected: type[Exception]
) -> None:
    graph.script.append(Scripted(status=status, json=_envelope(code, details)))
    with pytest.raises(expected) as caught:
        _run(graph.url, lambda c: c.send("5511988887777", TEMPLATE, callback_data="m"))
    error = caught.value
    assert type(error) is expected
    assert getattr(error, "code", None) == code
    assert getattr(error, "fbtrace_id", None) == "Az8or2yhqkZfEZ-_4Qn_Bam"
    assert getattr(error, "details", None) == (details or None)
    assert not getattr(error, "in_doubt", True)


def test_pair_rate_limit_respects_retry_after_header(graph: FakeGraph) -> None:
    graph.script.append(Scripted(status=400, json=_envelope(131056), headers={"Retry-After": "20"}))
    with pytest.raises(RetryLater) as caught:
        _run(graph.url, lambda c: c.send("5511988887777", TEMPLATE, callback_data="m"))
    assert caught.value.retry_after == 20


def test_gateway_error_without_envelope_is_in_doubt_for_sends(graph: FakeGraph) -> None:
    graph.script.append(Scripted(status=502, text="<html>Bad Gateway</html>"))
    with pytest.raises(InDoubt) as caught:
        _run(graph.url, lambda c: c.send("5511988887777", TEMPLATE, callback_data="m"))
    assert caught.value.in_doubt and caught.value.http_status == 502


def test_client_error_without_envelope_stops(graph: FakeGraph) -> None:
    graph.script.append(Scripted(status=404, text="not found"))
    with pytest.raises(StopAndAlert):
        _run(graph.url, lambda c: c.send("5511988887777", TEMPLATE, callback_data="m"))


def test_success_without_wamid_is_in_doubt(graph: FakeGraph) -> None:
    graph.script.append(Scripted(status=200, json={"messaging_product": "whatsapp", "messages": []}))
    with pytest.raises(InDoubt):
        _run(graph.url, lambda c: c.send("5511988887777", TEMPLATE, callback_data="m"))
    graph.script.append(Scripted(status=200, text="ok"))
    with pytest.raises(InDoubt):
        _run(graph.url, lambda c: c.send("5511988887777", TEMPLATE, callback_data="m"))


# --------------------------------------------------------------------------- network failures


def test_read_timeout_after_sending_is_in_doubt(graph: FakeGraph) -> None:
    graph.script.append(Scripted(delay=1.0, json={"messages": [{"id": "wamid.LATE"}]}))
    with pytest.raises(InDoubt) as caught:
        _run(
            graph.url,
            lambda c: c.send("5511988887777", TEMPLATE, callback_data="m"),
            timeout=httpx.Timeout(5.0, read=0.2),
        )
    assert caught.value.in_doubt
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert len(graph.requests) == 1  # the server did receive it: that is why it is in doubt


def test_connection_reset_after_sending_is_in_doubt() -> None:
    with serve_hang_up() as port, pytest.raises(InDoubt):
        _run(f"http://127.0.0.1:{port}", lambda c: c.send("5511988887777", TEMPLATE, callback_data="m"))


def test_connection_refused_is_not_sent() -> None:
    port = free_port_with_nothing_listening()
    with pytest.raises(NotSent) as caught:
        _run(f"http://127.0.0.1:{port}", lambda c: c.send("5511988887777", TEMPLATE, callback_data="m"))
    assert not caught.value.in_doubt
    assert isinstance(caught.value, RetryNow)


def test_idempotent_calls_are_safe_to_repeat_after_a_reset() -> None:
    with serve_hang_up() as port, pytest.raises(RetryNow) as caught:
        _run(f"http://127.0.0.1:{port}", lambda c: c.mark_read("wamid.IN"))
    assert not caught.value.in_doubt


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="api_version"):
        WhatsAppClient(phone_number_id=PNID, access_token="t", api_version="23")
    with pytest.raises(ValueError, match="phone_number_id"):
        WhatsAppClient(phone_number_id="abc", access_token="t")
    with pytest.raises(ValueError, match="access_token"):
        WhatsAppClient(phone_number_id=PNID, access_token="")
