from __future__ import annotations

import pytest

from quita.simulator.whatsapp.domain.errors import GraphError
from quita.simulator.whatsapp.domain.templates import parse_definition, placeholders, render, validate_send
from quita.simulator.whatsapp.starter import STARTER_TEMPLATES

REMINDER = parse_definition(STARTER_TEMPLATES[0], "1")
BOLETO = parse_definition(STARTER_TEMPLATES[1], "2")


def body(*values: str) -> dict:
    return {"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}


def test_placeholders_are_distinct_in_order() -> None:
    assert placeholders("{{2}} {{1}} {{2}} {{ nome }}") == ["2", "1", "nome"]


def test_positional_count_mismatch_is_132000() -> None:
    validate_send(REMINDER, [body("a", "b", "c")])
    with pytest.raises(GraphError) as exc:
        validate_send(REMINDER, [body("a")])
    assert exc.value.code == 132000
    assert "(1) does not match the expected number of params (3)" in exc.value.details


def test_media_header_and_named_params() -> None:
    header = {"type": "header", "parameters": [{"type": "document", "document": {"link": "https://x/b.pdf"}}]}
    named = {
        "type": "body",
        "parameters": [
            {"type": "text", "parameter_name": n, "text": n.upper()} for n in ("nome", "valor", "vencimento")
        ],
    }
    url = {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "abc"}]}
    validate_send(BOLETO, [header, named, url])
    with pytest.raises(GraphError) as exc:
        validate_send(BOLETO, [named, url])
    assert exc.value.code == 132000
    with pytest.raises(GraphError):
        validate_send(BOLETO, [header, body("a", "b", "c"), url])  # positional params for a named template
    rendered = render(BOLETO, [header, named, url])
    assert rendered["body"] == "NOME, o boleto de VALOR está disponível. Vencimento: VENCIMENTO."
    assert rendered["header"] == {"type": "document", "link": "https://x/b.pdf"}
    assert rendered["buttons"] == [
        {"type": "url", "text": "Ver boleto", "url": "https://pagar.example/b/abc"}
    ]


def test_definition_is_validated() -> None:
    with pytest.raises(GraphError):
        parse_definition(
            {"name": "Bad Name", "language": "pt_BR", "category": "UTILITY", "components": [{}]}, "9"
        )
    with pytest.raises(GraphError):
        parse_definition(
            {"name": "x", "language": "pt_BR", "category": "SPAM", "components": [{"type": "BODY"}]}, "9"
        )
