from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quita.payments.domain.boleto import (
    CHECK_ARRECADACAO,
    CHECK_CHARACTERS,
    CHECK_CURRENCY,
    CHECK_FIELD1,
    CHECK_FIELD2,
    CHECK_FIELD3,
    CHECK_GENERAL,
    CHECK_LENGTH,
    BoletoError,
    assemble_barcode,
    barcode_to_linha,
    decode_boleto,
    linha_to_barcode,
)
from quita.payments.domain.checksums import WEIGHTS_2_TO_9, mod10, mod11_general_dv, weighted_sum_from_right

TODAY = date(2026, 11, 23)


Loader = Callable[[str], Any]


def entries(load_conformance: Loader, kind: str) -> list[dict[str, Any]]:
    return [e for e in load_conformance("boleto.json") if e["kind"] == kind]


def test_official_caixa_examples() -> None:
    assert mod10("104900550") == 5
    assert mod11_general_dv("1049" + "324200000321120055077222133347777777771") == 4
    barcode = "10494324200000321120055077222133347777777771"
    decoded = decode_boleto("10490.05505 77222.133348 77777.777713 4 32420000032112", date(2006, 8, 1))
    assert decoded.barcode == barcode
    assert decoded.due_date == date(2006, 8, 23)
    assert decoded.amount == Decimal("321.12")
    assert decoded.bank == "104"


def test_conversion_vectors_both_directions(load_conformance: Loader) -> None:
    for entry in entries(load_conformance, "conversion"):
        due = entry["inputs"].get("due_date")
        today = date.fromisoformat(due) if due else TODAY
        for value in (entry["barcode"], entry["linha_digitavel"], entry["linha_digitavel"].replace(" ", "")):
            decoded = decode_boleto(value, today)
            assert decoded.barcode == entry["barcode"]
            assert decoded.linha_digitavel == entry["linha_digitavel"]
            assert decoded.amount == Decimal(entry["amount"])
            assert decoded.due_factor == int(entry["due_factor"])
            assert decoded.campo_livre == entry["campo_livre"]
            if due:
                assert decoded.due_date == date.fromisoformat(due)


def test_generation_vectors_decode(load_conformance: Loader) -> None:
    for entry in entries(load_conformance, "generation"):
        today = date.fromisoformat(entry["inputs"]["due_date"])
        decoded = decode_boleto(entry["linha_digitavel"], today)
        assert decoded.barcode == entry["barcode"]
        assert decoded.bank == entry["bank"]
        assert decoded.due_date == today
        assert decoded.amount == Decimal(entry["inputs"]["amount"])


def test_arrecadacao_rejected_with_reason(load_conformance: Loader) -> None:
    for entry in entries(load_conformance, "not_boleto_bancario"):
        for value in (entry["barcode"], entry["linha_digitavel"]):
            with pytest.raises(BoletoError) as info:
                decode_boleto(value, TODAY)
            assert info.value.check == CHECK_ARRECADACAO
            assert "arrecadação" in str(info.value)


def expected_checks(why: str) -> set[str]:
    if "46-digit" in why or "43-digit" in why or "length" in why:
        return {CHECK_LENGTH}
    if "non-digit" in why:
        return {CHECK_CHARACTERS}
    if "general DV" in why and "field" not in why:
        return {CHECK_GENERAL}
    if "field2, field3 and general" in why:
        return {CHECK_FIELD2, CHECK_FIELD3, CHECK_GENERAL}
    if "all four" in why:
        return {CHECK_FIELD1, CHECK_FIELD2, CHECK_FIELD3, CHECK_GENERAL}
    return {CHECK_FIELD1, CHECK_FIELD2, CHECK_FIELD3, CHECK_GENERAL}  # "all DVs wrong": some DV check


def test_invalid_vectors_rejected_for_the_right_reason(load_conformance: Loader) -> None:
    invalid = entries(load_conformance, "invalid")
    assert invalid
    for entry in invalid:
        with pytest.raises(BoletoError) as info:
            decode_boleto(entry["value"], TODAY)
        expected = expected_checks(entry["why"])
        if "all four" in entry["why"] or "field2, field3" in entry["why"]:
            assert set(info.value.checks) == expected, entry
        else:
            assert set(info.value.checks) <= expected, entry


@pytest.mark.parametrize(
    ("value", "check"),
    [
        ("1049032420000032112005507722213334777777777", CHECK_LENGTH),
        ("10494324200000321120055077222133347777777771X", CHECK_CHARACTERS),
        ("10414324200000321120055077222133347777777771", CHECK_CURRENCY),
        ("10495324200000321120055077222133347777777771", CHECK_GENERAL),
        ("10490.05506 77222.133348 77777.777713 4 32420000032112", CHECK_FIELD1),
        ("10490.05505 77222.133349 77777.777713 4 32420000032112", CHECK_FIELD2),
        ("10490.05505 77222.133348 77777.777714 4 32420000032112", CHECK_FIELD3),
    ],
)
def test_each_check_is_named(value: str, check: str) -> None:
    with pytest.raises(BoletoError) as info:
        decode_boleto(value, date(2006, 8, 1))
    assert info.value.check == check
    assert isinstance(info.value, ValueError)


def test_zero_factor_and_amount_accepted() -> None:
    decoded = decode_boleto("23797000000000000004150090019801673500021140", TODAY)
    assert decoded.due_date is None
    assert decoded.amount == Decimal("0.00")


barcodes = st.builds(
    assemble_barcode,
    bank=st.from_regex(r"[0-7][0-9]{2}", fullmatch=True),
    due_factor=st.integers(min_value=1000, max_value=9999),
    amount_cents=st.integers(min_value=0, max_value=99_999_999_99),
    campo_livre=st.from_regex(r"[0-9]{25}", fullmatch=True),
)


@given(barcodes)
def test_linha_barcode_round_trip(barcode: str) -> None:
    linha = barcode_to_linha(barcode)
    assert len(linha) == 47
    assert linha_to_barcode(linha) == barcode
    today = date(2025, 2, 22) + timedelta(days=int(barcode[5:9]) - 1000)  # factor inside the window
    assert decode_boleto(linha, today).barcode == barcode


@given(barcodes, st.integers(min_value=0, max_value=46), st.integers(min_value=1, max_value=9))
def test_single_digit_change_in_linha_detected(barcode: str, position: int, bump: int) -> None:
    linha = barcode_to_linha(barcode)
    changed = linha[:position] + str((int(linha[position]) + bump) % 10) + linha[position + 1 :]
    today = date(2025, 2, 22) + timedelta(days=int(barcode[5:9]) - 1000)
    if position < 32:
        with pytest.raises(BoletoError):  # fields 1-3: modulo 10 catches every single-digit change
            decode_boleto(changed, today)
        return
    try:
        decode_boleto(changed, today)
    except BoletoError:
        return
    # Field 5 has no DV of its own; the general DV maps remainders 0, 1 and 10 all to DV 1, so a change
    # moving the remainder among those is the one undetectable case (a property of the FEBRABAN rule).
    before = weighted_sum_from_right(barcode[:4] + barcode[5:], WEIGHTS_2_TO_9) % 11
    after_code = linha_to_barcode(changed)
    after = weighted_sum_from_right(after_code[:4] + after_code[5:], WEIGHTS_2_TO_9) % 11
    assert before != after
    assert {before, after} <= {0, 1, 10}
