"""pywa, the maintained third-party Cloud API client, works against the simulator unchanged.

pywa hard-codes ``https://graph.facebook.com/v{version}`` as its base URL; the only thing changed here is
the network route: an httpx transport that sends graph.facebook.com requests to the simulator's port, the
way a DNS override or a proxy would. Paths, bodies, headers and response parsing are pywa's own.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simulator.conftest import Receiver
from simulator.helpers import PHONE_ID, TOKEN, WABA_ID

pywa = pytest.importorskip("pywa")
from pywa import WhatsApp, types  # noqa: E402
from pywa.types.templates import BodyText, QuickReplyButton, TemplateLanguage  # noqa: E402


class ToSimulator(httpx.HTTPTransport):
    """Routes requests for graph.facebook.com to the local simulator, everything else unchanged."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.target = httpx.URL(base_url)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "graph.facebook.com":
            request.url = request.url.copy_with(
                scheme=self.target.scheme, host=self.target.host, port=self.target.port
            )
            request.headers["Host"] = f"{self.target.host}:{self.target.port}"
        return super().handle_request(request)


@pytest.fixture()
def wa(base_url: str) -> Iterator[WhatsApp]:
    session = httpx.Client(transport=ToSimulator(base_url))
    yield WhatsApp(phone_id=PHONE_ID, token=TOKEN, waba_id=WABA_ID, session=session)
    session.close()


def test_pywa_sends_text_buttons_template_and_media(
    wa: WhatsApp, control: httpx.Client, receiver: Receiver
) -> None:
    control.post("/inbound", json={"from": "5511988887777", "type": "text", "text": "oi"}).raise_for_status()

    text = wa.send_message(to="5511988887777", text="Olá! Sua fatura está disponível.", tracker="pywa-1")
    assert text.id.startswith("wamid.")
    assert text.chat.id == "5511988887777"

    buttons = wa.send_message(
        to="5511988887777",
        text="Como deseja pagar?",
        buttons=[
            types.Button(title="Pagar com Pix", callback_data="pix"),
            types.Button(title="Parcelar", callback_data="parc"),
        ],
    )
    template = wa.send_template(
        to="5547997192447",
        name="lembrete_vencimento",
        language=TemplateLanguage.PORTUGUESE_BR,
        params=[
            BodyText.params("Maria", "R$ 150,00", "10/09/2026"),
            QuickReplyButton.params(callback_data="NEGOCIAR", index=1),
        ],
    )
    assert template.chat.id == "554797192447"  # legacy 12-digit wa_id comes back
    assert template.status is not None and template.status.value == "accepted"
    media = wa.upload_media(media=b"%PDF-1.4 boleto", mime_type="application/pdf", filename="boleto.pdf")
    document = wa.send_document(
        to="5511988887777", document=media.id, filename="boleto.pdf", caption="Seu boleto"
    )
    assert wa.get_media_url(media.id).url
    assert wa.get_media_bytes(wa.get_media_url(media.id).url) == b"%PDF-1.4 boleto"
    info = wa.get_business_phone_number()
    assert info.id == PHONE_ID

    sent = {m["id"]: m for m in control.get("/messages").json()["data"]}
    assert sent[text.id]["biz_opaque_callback_data"] == "pywa-1"
    assert sent[buttons.id]["request"]["interactive"]["action"]["buttons"][0]["reply"]["id"] == "pix"
    assert sent[template.id]["rendered"]["body"].startswith("Olá, Maria. Sua fatura de R$ 150,00")
    assert sent[document.id]["request"]["document"]["id"] == media.id
    assert control.get("/stats").json()["rejected"] == 0


def test_pywa_surfaces_simulator_errors_as_its_own_exceptions(wa: WhatsApp, receiver: Receiver) -> None:
    from pywa import errors

    with pytest.raises(errors.TemplateNotExists):
        wa.send_template(to="5511988887777", name="nao_existe", language=TemplateLanguage.PORTUGUESE_BR)
    wa.token = "wrong"
    with pytest.raises(errors.AuthorizationError):
        wa.send_message(to="5511988887777", text="x")


def test_pywa_parses_and_verifies_the_simulator_webhooks(
    wa: WhatsApp, graph: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    from pywa import handlers

    from simulator.helpers import SECRET, template_body, text_body

    got: list[tuple[str, object]] = []
    listener = WhatsApp(phone_id=PHONE_ID, token=TOKEN, server=None, app_secret=SECRET, verify_token="v")
    listener.add_handlers(
        handlers.MessageStatusHandler(
            lambda _, s: got.append((s.status.value, s.tracker, type(s.error).__name__ if s.error else None))
        ),
        handlers.CallbackButtonHandler(lambda _, b: got.append(("button", b.data, b.reply_to_message.id))),
        handlers.MessageHandler(lambda _, m: got.append(("text", m.text, m.from_user.wa_id))),
    )
    failed = graph.post(
        f"/{PHONE_ID}/messages", json=text_body("5511988887777", "fora da janela", "t-1")
    ).json()
    template = graph.post(f"/{PHONE_ID}/messages", json=template_body("5511988887777", "t-2")).json()
    template_id = template["messages"][0]["id"]
    control.post(
        "/inbound",
        json={
            "from": "5511988887777",
            "type": "button",
            "payload": "NEGOCIAR",
            "text": "Negociar",
            "context": template_id,
        },
    ).raise_for_status()
    control.post("/inbound", json={"from": "5531988887777", "type": "text", "text": "oi"}).raise_for_status()
    receiver.wait_for(lambda r: len(r.statuses()) >= 4 and len(r.messages()) == 2)
    for headers, body in list(receiver.posts):
        assert listener.webhook_update_validator(body, headers["x-hub-signature-256"]) is None
        assert listener.webhook_update_handler(body) == ("ok", 200)
    assert listener.webhook_update_validator(b'{"tampered":1}', headers["x-hub-signature-256"]) is not None
    assert failed["messages"][0]["id"]
    assert ("failed", "t-1", "ReEngagementMessage") in got  # pywa maps 131047 to its class
    assert ("sent", "t-2", None) in got
    assert ("button", "NEGOCIAR", template_id) in got
    assert ("text", "oi", "553188887777") in got
