from __future__ import annotations

import pytest

from quita.simulator.whatsapp.domain.errors import GraphError
from quita.simulator.whatsapp.domain.messages import parse_read, parse_send


def base(**extra: object) -> dict:
    return {"messaging_product": "whatsapp", "to": "5511988887777", **extra}


def test_type_defaults_to_text_and_input_is_kept() -> None:
    request = parse_send(base(to="+55 11 98888-7777", text={"body": "oi"}))
    assert (request.type, request.to_input, request.to_digits) == (
        "text",
        "+55 11 98888-7777",
        "5511988887777",
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (base(type="document", document={"link": "https://x/a.pdf", "id": "1"}), 100),
        (base(type="document", document={"link": "ftp://x/a.pdf"}), 131009),
        (
            base(
                type="interactive",
                interactive={
                    "type": "list",
                    "body": {"text": "x"},
                    "action": {
                        "button": "b",
                        "sections": [{"rows": [{"id": str(i), "title": "t"} for i in range(11)]}],
                    },
                },
            ),
            131009,
        ),
        (
            base(
                type="interactive",
                interactive={
                    "type": "button",
                    "body": {"text": "x"},
                    "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "x" * 21}}]},
                },
            ),
            131009,
        ),
        (
            base(
                type="interactive",
                interactive={
                    "type": "cta_url",
                    "body": {"text": "x"},
                    "action": {"name": "cta_url", "parameters": {"display_text": "Pagar"}},
                },
            ),
            100,
        ),
        (base(type="template", template={"name": "x"}), 100),
        (base(type="text", text={"body": "x"}, recipient_type="group"), 131009),
        ([], 100),
    ],
)
def test_meta_like_rejections(body: object, code: int) -> None:
    with pytest.raises(GraphError) as exc:
        parse_send(body)
    assert exc.value.code == code


def test_read_with_typing() -> None:
    assert parse_read({"message_id": "wamid.x", "typing_indicator": {"type": "text"}}).typing
    with pytest.raises(GraphError):
        parse_read({})
