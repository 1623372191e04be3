from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quita.payments.domain.banks import (
    BoletoSpec,
    bb_nosso_numero_dv,
    bradesco_nosso_numero_dv,
    encode_boleto,
    sicoob_nosso_numero_dv,
)
from quita.payments.domain.boleto import BoletoError, decode_boleto
from quita.payments.domain.checksums import mod10, mod11_zero_above_nine

Loader = Callable[[str], Any]


def test_generation_vectors(load_conformance: Loader) -> None:
    generation = [e for e in load_conformance("boleto.json") if e["kind"] == "generation"]
    assert generation
    for entry in generation:
        encoded = encode_boleto(BoletoSpec.from_mapping({"bank": entry["bank"], **entry["inputs"]}))
        assert encoded.campo_livre == entry["campo_livre"], entry["source"]
        assert encoded.barcode == entry["barcode"], entry["source"]
        assert encoded.linha_digitavel == entry["linha_digitavel"], entry["source"]
        assert encoded.due_factor == int(entry["due_factor"])
        if "nosso_numero_dv" in entry:
            assert encoded.nosso_numero_dv == str(entry["nosso_numero_dv"]), entry["source"]
        if "beneficiario_dv" in entry:
            assert encoded.campo_livre[6] == str(entry["beneficiario_dv"])


@pytest.mark.parametrize(
    ("carteira", "nn", "dv"),
    [
        ("06", "00000000525", "P"),
        ("09", "00000000001", "1"),
        ("19", "00000000002", "8"),
        ("19", "00000000006", "0"),
    ],
)
def test_bradesco_nn_dv(carteira: str, nn: str, dv: str) -> None:
    assert bradesco_nosso_numero_dv(carteira, nn) == dv


def test_santander_nn_dv_table() -> None:
    table = {"566612457800": 2, "566612457801": 0, "566612457802": 9, "566612457803": 7, "566612457804": 5}
    for nn, dv in table.items():
        assert mod11_zero_above_nine(nn) == dv


def test_caixa_nn_dv_official() -> None:
    assert mod11_zero_above_nine("14000000000000019") == 7


def test_sicoob_nn_dv_sequence() -> None:
    expected = [7, 4, 1, 9, 6, 3, 0, 8, 5, 3, 0, 8, 5]
    got = [sicoob_nosso_numero_dv("4327", "229385", f"{n:07d}") for n in range(1, 14)]
    assert got == expected


def test_itau_agencia_conta_dac() -> None:
    assert mod10("060715255") == 0
    assert mod10("154785547") == 6


def test_bb_dv_maps_ten_to_x() -> None:
    values = {bb_nosso_numero_dv(f"123456{n:05d}") for n in range(200)}
    assert "X" in values


def test_unsupported_bank_and_bad_input() -> None:
    with pytest.raises(BoletoError) as info:
        encode_boleto(BoletoSpec(bank="999", due_date=date(2026, 1, 1), amount=Decimal("1.00")))
    assert info.value.check == "banco"
    with pytest.raises(BoletoError):
        BoletoSpec.from_mapping({"bank": "341", "amount": "1.234"})
    with pytest.raises(BoletoError):
        BoletoSpec.from_mapping({"bank": "341", "amount": "1.00", "surprise": "1"})
    with pytest.raises(BoletoError):
        BoletoSpec.from_mapping({"bank": "341", "amount": "1.00", "agencia": "12a4"})
    with pytest.raises(BoletoError):  # nosso número too long for Itaú (8 digits)
        encode_boleto(
            BoletoSpec.from_mapping(
                {
                    "bank": "341",
                    "amount": "1.00",
                    "agencia": "1",
                    "conta": "1",
                    "carteira": "109",
                    "nosso_numero": "123456789",
                }
            )
        )


def digits(n: int) -> st.SearchStrategy[str]:
    return st.from_regex(rf"[0-9]{{{n}}}", fullmatch=True)


BANK_FIELDS: dict[str, st.SearchStrategy[dict[str, str]]] = {
    "001": st.one_of(
        st.fixed_dictionaries(
            {"convenio": digits(7), "nosso_numero": digits(10), "carteira": st.sampled_from(["17", "18"])}
        ),
        st.fixed_dictionaries({"convenio": digits(8), "nosso_numero": digits(9), "carteira": st.just("18")}),
        st.fixed_dictionaries(
            {
                "convenio": digits(6),
                "nosso_numero": digits(5),
                "agencia": digits(4),
                "conta": digits(8),
                "carteira": st.just("18"),
            }
        ),
        st.fixed_dictionaries(
            {
                "convenio": digits(4),
                "nosso_numero": digits(7),
                "agencia": digits(4),
                "conta": digits(8),
                "carteira": st.just("18"),
            }
        ),
    ),
    "341": st.fixed_dictionaries(
        {
            "agencia": digits(4),
            "conta": digits(5),
            "carteira": st.sampled_from(["109", "175", "168", "196"]),
            "nosso_numero": digits(8),
            "seu_numero": digits(7),
            "codigo_cliente": digits(5),
        }
    ),
    "237": st.fixed_dictionaries(
        {
            "agencia": digits(4),
            "conta": digits(7),
            "carteira": st.sampled_from(["09", "06"]),
            "nosso_numero": digits(11),
        }
    ),
    "104": st.fixed_dictionaries(
        {
            "codigo_beneficiario": digits(6),
            "nosso_numero": digits(15),
            "carteira": st.sampled_from(["1", "2"]),
        }
    ),
    "033": st.fixed_dictionaries(
        {
            "codigo_beneficiario": digits(7),
            "nosso_numero": digits(12),
            "carteira": st.sampled_from(["101", "102"]),
        }
    ),
    "756": st.fixed_dictionaries(
        {
            "agencia": digits(4),
            "codigo_cliente": digits(7),
            "nosso_numero": digits(7),
            "modalidade": st.just("01"),
            "parcela": digits(3),
        }
    ),
    "748": st.fixed_dictionaries(
        {
            "agencia": digits(4),
            "posto": digits(2),
            "codigo_beneficiario": digits(5),
            "nosso_numero": digits(5),
            "byte_idt": st.just("2"),
        }
    ),
}


@settings(max_examples=40)
@given(
    bank_and_fields=st.sampled_from(sorted(BANK_FIELDS)).flatmap(
        lambda bank: st.tuples(st.just(bank), BANK_FIELDS[bank])
    ),
    cents=st.integers(min_value=0, max_value=99_999_999_99),
    offset=st.integers(min_value=-3000, max_value=5500),
)
def test_encode_decode_round_trip(
    bank_and_fields: tuple[str, dict[str, str]], cents: int, offset: int
) -> None:
    bank, bank_fields = bank_and_fields
    today = date(2026, 11, 23)
    due = today + timedelta(days=offset)
    amount = Decimal(cents) / 100
    spec = BoletoSpec.from_mapping(
        {"bank": bank, "due_date": due.isoformat(), "amount": str(amount), **bank_fields}
    )
    encoded = encode_boleto(spec)
    for value in (encoded.barcode, encoded.linha_digitavel):
        decoded = decode_boleto(value, today)
        assert decoded.bank == bank
        assert decoded.amount == amount
        assert decoded.due_date == due
        assert decoded.campo_livre == encoded.campo_livre
