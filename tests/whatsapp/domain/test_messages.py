from __future__ import annotations

from datetime import date

import pytest

from quita.whatsapp.domain.errors import InvalidMessage
from quita.whatsapp.domain.messages import (
    CtaUrlMessage,
    CurrencyParam,
    DateTimeParam,
    DocumentMessage,
    DocumentParam,
    ListMessage,
    ListRow,
    ListSection,
    QuickReplyButtonParam,
    Recipient,
    ReplyButton,
    ReplyButtonsMessage,
    TemplateMessage,
    TextMessage,
    TextParam,
    UrlButtonParam,
    build_mark_read_payload,
    build_message_payload,
    format_brl,
    is_free_form,
)


def _payload(message: object, to: str = "5511988887777") -> dict[str, object]:
    return build_message_payload(to, message, biz_opaque_callback_data="msg-1")  # type: ignore[arg-type]


def test_template_with_document_header_currency_date_and_buttons() -> None:
    message = TemplateMessage(
        name="lembrete_vencimento",
        header=DocumentParam(link="https://cdn.example/boleto.pdf", filename="boleto.pdf"),
        body=(TextParam("Maria"), CurrencyParam(15000), DateTimeParam.from_date(date(2026, 9, 10))),
        buttons=(QuickReplyButtonParam(0, "NEGOCIAR"), UrlButtonParam(1, "abc123")),
    )
    payload = _payload(message)
    assert payload == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511988887777",
        "type": "template",
        "template": {
            "name": "lembrete_vencimento",
            "language": {"policy": "deterministic", "code": "pt_BR"},
            "components": [
                {
                    "type": "header",
                    "parameters": [
                        {
                            "type": "document",
                            "document": {"link": "https://cdn.example/boleto.pdf", "filename": "boleto.pdf"},
                        }
                    ],
                },
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Maria"},
                        {
                            "type": "currency",
                            "currency": {"fallback_value": "R$ 150,00", "code": "BRL", "amount_1000": 150000},
                        },
                        {"type": "date_time", "date_time": {"fallback_value": "10/09/2026"}},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "0",
                    "parameters": [{"type": "payload", "payload": "NEGOCIAR"}],
                },
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "1",
                    "parameters": [{"type": "text", "text": "abc123"}],
                },
            ],
        },
        "biz_opaque_callback_data": "msg-1",
    }
    assert not is_free_form(message)


def test_named_parameters_and_uploaded_document_header() -> None:
    message = TemplateMessage(
        name="aviso",
        header=DocumentParam(media_id="778899"),
        body=(TextParam("Maria", name="customer_name"), CurrencyParam(123456, name="amount")),
    )
    components = _payload(message)["template"]["components"]  # type: ignore[index]
    assert components[0]["parameters"][0] == {"type": "document", "document": {"id": "778899"}}
    assert components[1]["parameters"] == [
        {"type": "text", "text": "Maria", "parameter_name": "customer_name"},
        {
            "type": "currency",
            "currency": {"fallback_value": "R$ 1.234,56", "code": "BRL", "amount_1000": 1234560},
            "parameter_name": "amount",
        },
    ]


def test_template_validation() -> None:
    with pytest.raises(InvalidMessage, match="mixes named and positional"):
        TemplateMessage(name="x", body=(TextParam("a", name="n"), TextParam("b")))
    with pytest.raises(InvalidMessage, match=r"template\.language"):
        TemplateMessage(name="x", language="portuguese")
    with pytest.raises(InvalidMessage, match=r"template\.name"):
        TemplateMessage(name="Lembrete Vencimento")
    with pytest.raises(InvalidMessage, match="button index"):
        TemplateMessage(name="x", buttons=(QuickReplyButtonParam(0, "a"), UrlButtonParam(0, "b")))
    with pytest.raises(InvalidMessage, match=r"template\.button\.index"):
        QuickReplyButtonParam(10, "a")
    with pytest.raises(InvalidMessage, match="integer cents"):
        CurrencyParam(12.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidMessage, match="exactly one"):
        DocumentParam(link="https://x/y.pdf", media_id="1")
    assert TemplateMessage(name="sem_parametros").to_json()["template"] == {
        "name": "sem_parametros",
        "language": {"policy": "deterministic", "code": "pt_BR"},
    }


def test_format_brl() -> None:
    assert format_brl(0) == "R$ 0,00"
    assert format_brl(5) == "R$ 0,05"
    assert format_brl(100000000) == "R$ 1.000.000,00"
    assert format_brl(-1999) == "-R$ 19,99"


def test_text_limits() -> None:
    assert _payload(TextMessage("Olá"))["text"] == {"preview_url": False, "body": "Olá"}
    TextMessage("x" * 4096)
    with pytest.raises(InvalidMessage, match="4096"):
        TextMessage("x" * 4097)
    with pytest.raises(InvalidMessage, match="empty"):
        TextMessage("   ")
    assert is_free_form(TextMessage("a"))


def test_reply_buttons() -> None:
    message = ReplyButtonsMessage(
        body="Como deseja pagar?",
        header_text="Sua fatura",
        footer="Empresa X",
        buttons=(ReplyButton("pix", "Pagar com Pix"), ReplyButton("parcelar", "Parcelar")),
    )
    assert _payload(message)["interactive"] == {
        "type": "button",
        "header": {"type": "text", "text": "Sua fatura"},
        "body": {"text": "Como deseja pagar?"},
        "footer": {"text": "Empresa X"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "pix", "title": "Pagar com Pix"}},
                {"type": "reply", "reply": {"id": "parcelar", "title": "Parcelar"}},
            ]
        },
    }
    four = tuple(ReplyButton(str(i), f"b{i}") for i in range(4))
    with pytest.raises(InvalidMessage, match="1 to 3"):
        ReplyButtonsMessage(body="x", buttons=four)
    with pytest.raises(InvalidMessage, match="20"):
        ReplyButton("a", "x" * 21)
    with pytest.raises(InvalidMessage, match="1024"):
        ReplyButtonsMessage(body="x" * 1025, buttons=(ReplyButton("a", "b"),))
    with pytest.raises(InvalidMessage, match="60"):
        ReplyButtonsMessage(body="x", footer="f" * 61, buttons=(ReplyButton("a", "b"),))
    with pytest.raises(InvalidMessage, match="unique"):
        ReplyButtonsMessage(body="x", buttons=(ReplyButton("a", "b"), ReplyButton("a", "c")))


def test_list_limits() -> None:
    rows = tuple(ListRow(f"r{i}", f"Opção {i}") for i in range(10))
    message = ListMessage(body="Escolha", button="Ver opções", sections=(ListSection("Parcelas", rows),))
    action = _payload(message)["interactive"]["action"]  # type: ignore[index]
    assert action["button"] == "Ver opções" and len(action["sections"][0]["rows"]) == 10
    with pytest.raises(InvalidMessage, match="11 rows"):
        ListMessage(
            body="x", button="b", sections=(ListSection("a", rows), ListSection("b", (ListRow("z", "z"),)))
        )
    with pytest.raises(InvalidMessage, match="24"):
        ListRow("id", "t" * 25)
    with pytest.raises(InvalidMessage, match="72"):
        ListRow("id", "t", "d" * 73)
    with pytest.raises(InvalidMessage, match="200"):
        ListRow("i" * 201, "t")
    with pytest.raises(InvalidMessage, match=r"section\.title"):
        ListMessage(
            body="x",
            button="b",
            sections=(ListSection(None, (ListRow("a", "a"),)), ListSection("s", (ListRow("b", "b"),))),
        )
    with pytest.raises(InvalidMessage, match="20"):
        ListMessage(body="x", button="b" * 21, sections=(ListSection(None, (ListRow("a", "a"),)),))


def test_cta_url_and_document() -> None:
    cta = _payload(
        CtaUrlMessage(body="Pague pelo link", display_text="Pagar agora", url="https://pay.example/abc")
    )
    assert cta["interactive"]["action"] == {  # type: ignore[index]
        "name": "cta_url",
        "parameters": {"display_text": "Pagar agora", "url": "https://pay.example/abc"},
    }
    with pytest.raises(InvalidMessage, match="URL"):
        CtaUrlMessage(body="x", display_text="y", url="javascript:alert(1)")
    doc = _payload(DocumentMessage(link="https://cdn.example/b.pdf", filename="b.pdf", caption="Seu boleto"))
    assert doc["document"] == {
        "link": "https://cdn.example/b.pdf",
        "filename": "b.pdf",
        "caption": "Seu boleto",
    }
    assert _payload(DocumentMessage(media_id="42"))["document"] == {"id": "42"}
    with pytest.raises(InvalidMessage):
        DocumentMessage()


def test_recipients_context_and_callback_data() -> None:
    assert _payload(TextMessage("a"), to="+55 (11) 98888-7777")["to"] == "5511988887777"
    bsuid = _payload(TextMessage("a"), to="BR.1502576394655843")
    assert bsuid["recipient"] == "BR.1502576394655843" and "to" not in bsuid
    assert Recipient.parse("US.ENT.11815799212886844830").is_bsuid
    for bad in ("", "abc", "123", "+55 11 9888 8777 7777 7"):
        with pytest.raises(InvalidMessage, match="to"):
            _payload(TextMessage("a"), to=bad)
    with_context = build_message_payload(
        "5511988887777", TextMessage("a"), biz_opaque_callback_data="m", reply_to="wamid.X"
    )
    assert with_context["context"] == {"message_id": "wamid.X"}
    with pytest.raises(InvalidMessage, match="biz_opaque_callback_data"):
        build_message_payload("5511988887777", TextMessage("a"), biz_opaque_callback_data="")
    with pytest.raises(InvalidMessage, match="512"):
        build_message_payload("5511988887777", TextMessage("a"), biz_opaque_callback_data="x" * 513)


def test_mark_read_payload() -> None:
    assert build_mark_read_payload("wamid.A") == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.A",
    }
    assert build_mark_read_payload("wamid.A", typing_indicator=True)["typing_indicator"] == {"type": "text"}
