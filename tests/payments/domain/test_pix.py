from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quita.payments.domain.pix import (
    PixError,
    build_dynamic,
    build_static,
    crc_hex,
    normalize_text,
    parse_brcode,
)

Loader = Callable[[str], Any]

MANUAL_EXAMPLE = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


def test_crc_check_value() -> None:
    assert crc_hex("123456789") == "29B1"


def test_manual_example() -> None:
    code = parse_brcode(MANUAL_EXAMPLE)
    assert code.key == "123e4567-e12b-12d1-a456-426655440000"
    assert code.merchant_name == "Fulano de Tal"
    assert code.txid == "***"
    assert code.amount is None
    assert not code.is_dynamic


def test_conformance_vectors(load_conformance: Loader) -> None:
    vectors = load_conformance("pix.json")
    assert vectors
    for vector in vectors:
        if vector["valid"]:
            code = parse_brcode(vector["payload"])
            assert code.fields == vector["fields"], vector["source"]
            continue
        with pytest.raises(PixError) as info:
            parse_brcode(vector["payload"])
        tags = {issue.tag for issue in info.value.issues}
        for expected in vector.get("errors", []):
            if expected.startswith("CRC mismatch"):
                computed = expected.split("computed ")[1].split(",")[0]
                assert "63" in tags
                assert computed in str(info.value)
            else:
                assert expected.split()[0] in tags, (expected, tags)


def test_static_build_matches_published_example() -> None:
    payload = build_static(
        key="fulano@exemplo.com",
        amount=Decimal("25.00"),
        txid="PEDIDO4821",
        merchant_name="FULANO DE TAL",
        merchant_city="SAO PAULO",
    )
    assert payload.endswith("63048572")


def test_dynamic_build_matches_published_example() -> None:
    payload = build_dynamic(
        location_url="https://payload.psp.com/3ec9d2f9-5f03-4e0e-820d-63a81e769e87",
        merchant_name="Thales Ogliari",
        merchant_city="São Miguel do Oeste",
    )
    code = parse_brcode(payload)
    assert code.merchant_city == "Sao Miguel do O"
    assert code.is_dynamic and code.single_use
    assert code.txid == "***"


def test_name_and_city_are_normalised() -> None:
    assert normalize_text("Fundação  José Ávila Comércio de Alimentos", 25) == "Fundacao Jose Avila Comer"
    assert normalize_text("Florianópolis", 15) == "Florianopolis"
    assert len(normalize_text("São José dos Campos do Sul", 15)) <= 15


@pytest.mark.parametrize(
    ("mutate", "tag"),
    [
        (lambda p: p.replace("5303986", "5303840"), "53"),
        (lambda p: p.replace("5802BR", "5802US"), "58"),
        (lambda p: p.replace("0014br.gov.bcb.pix", "0014br.gov.bcb.pux"), "26"),
        (lambda p: p.replace("62070503***", "62070503**!"), "62.05"),
        (lambda p: p[:-8], "63"),
    ],
)
def test_errors_name_the_tag(mutate: Callable[[str], str], tag: str) -> None:
    broken = mutate(MANUAL_EXAMPLE)
    body = broken[:-4] if broken.endswith(MANUAL_EXAMPLE[-4:]) else broken
    if body.endswith("6304"):
        broken = body + crc_hex(body)  # recompute CRC so that only the field rule fails
    with pytest.raises(PixError) as info:
        parse_brcode(broken)
    assert tag in {issue.tag for issue in info.value.issues}, info.value


def test_broken_length_reports_position() -> None:
    with pytest.raises(PixError) as info:
        parse_brcode("000201265800")
    assert info.value.tag == "26"


def test_invalid_build_inputs() -> None:
    with pytest.raises(PixError):
        build_static(key="not a key", merchant_name="A", merchant_city="B")
    with pytest.raises(PixError):
        build_static(key="+5511999998888", merchant_name="A", merchant_city="B", txid="x" * 26)
    with pytest.raises(PixError):
        build_static(key="+5511999998888", merchant_name="A", merchant_city="B", amount=Decimal("1.001"))


keys = st.one_of(
    st.from_regex(r"[0-9]{11}", fullmatch=True),
    st.from_regex(r"\+55[0-9]{11}", fullmatch=True),
    st.uuids().map(str),
    st.from_regex(r"[a-z]{1,20}@[a-z]{1,10}\.com", fullmatch=True),
)
texts = st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "Zs"]), min_size=1, max_size=40)


@given(
    key=keys,
    cents=st.one_of(st.none(), st.integers(min_value=1, max_value=99_999_999_99)),
    txid=st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9]{1,25}", fullmatch=True)),
    name=texts,
    city=texts,
    description=st.one_of(st.none(), texts),
)
def test_static_build_parse_round_trip(
    key: str, cents: int | None, txid: str | None, name: str, city: str, description: str | None
) -> None:
    amount = None if cents is None else Decimal(cents) / 100
    try:
        payload = build_static(
            key=key, merchant_name=name, merchant_city=city, amount=amount, txid=txid, description=description
        )
    except PixError as exc:  # only acceptable when the name/city have no ASCII left
        assert exc.tag in {"59", "60"}
        return
    code = parse_brcode(payload)
    assert code.key == key
    assert code.amount == amount
    assert code.txid == (txid or "***")
    assert code.merchant_name == normalize_text(name, 25)
    assert code.merchant_city == normalize_text(city, 15)


@given(position=st.integers(min_value=0), replacement=st.characters(min_codepoint=32, max_codepoint=126))
def test_crc_detects_any_single_character_change(position: int, replacement: str) -> None:
    index = position % len(MANUAL_EXAMPLE)
    if MANUAL_EXAMPLE[index] == replacement:
        return
    changed = MANUAL_EXAMPLE[:index] + replacement + MANUAL_EXAMPLE[index + 1 :]
    with pytest.raises(PixError):
        parse_brcode(changed)
