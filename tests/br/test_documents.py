import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quita.br.documents import (
    Document,
    InvalidDocument,
    format_cnpj,
    format_cpf,
    generate_cnpj,
    generate_cpf,
    is_valid_cnpj,
    is_valid_cpf,
    normalise_cnpj,
    normalise_cpf,
    parse_document,
)

# Vectors from /work/shared/reference/payments-br.md §7.
VALID_CPFS = ["529.982.247-25", "123.456.789-09", "557.827.243-66", "52998224725"]
VALID_CNPJS = [
    "12.ABC.345/01DE-35",
    "11.222.333/0001-81",
    "00.000.000/0001-91",
    "UU97L8QM000130",
    "2P.76B.MNX/0001-66",
    "B4ESBMHS000102",
    "00.000.000/E08G-12",
]


@pytest.mark.parametrize("raw", VALID_CPFS)
def test_valid_cpfs(raw: str) -> None:
    assert is_valid_cpf(raw)
    assert normalise_cpf(raw) == raw.replace(".", "").replace("-", "")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("123.456.789-00", "dígito verificador"),
        ("111.111.111-11", "todos os dígitos iguais"),
        ("000.000.000-00", "todos os dígitos iguais"),
        ("5299822472", "11 dígitos"),
        ("529982247255", "11 dígitos"),
        ("529.982.247-2X", "só pode conter dígitos"),
        ("", "vazio"),
        ("５２９９８２２４７２５", "só pode conter dígitos"),  # full-width digits
    ],
)
def test_invalid_cpfs(raw: str, reason: str) -> None:
    with pytest.raises(InvalidDocument, match=reason):
        normalise_cpf(raw)
    assert not is_valid_cpf(raw)


@pytest.mark.parametrize("raw", VALID_CNPJS)
def test_valid_cnpjs(raw: str) -> None:
    assert is_valid_cnpj(raw)
    assert is_valid_cnpj(raw.lower())
    assert normalise_cnpj(raw.lower()) == normalise_cnpj(raw)
    assert len(normalise_cnpj(raw)) == 14


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("9ZW2JIM2OWTG85", "dígito verificador"),  # npm README example with wrong DVs
        ("8I.S4O.LPO/PRD7-81", "dígito verificador"),
        ("56989000019533", "dígito verificador"),  # API Pix doc example, not valid
        ("00000000000000", "todos os caracteres iguais"),
        ("11.222.333/0001-8", "14 caracteres"),
        ("12.ABC.345/01DE-3A", "dígitos verificadores"),
        ("12.AB#.345/01DE-35", "letras de A a Z"),
    ],
)
def test_invalid_cnpjs(raw: str, reason: str) -> None:
    with pytest.raises(InvalidDocument, match=reason):
        normalise_cnpj(raw)


def test_formatting() -> None:
    assert format_cpf("52998224725") == "529.982.247-25"
    assert format_cnpj("12abc34501de35") == "12.ABC.345/01DE-35"
    assert Document("cpf", "52998224725").formatted == "529.982.247-25"
    assert Document("cnpj", "12ABC34501DE35").formatted == "12.ABC.345/01DE-35"
    with pytest.raises(InvalidDocument):
        format_cpf("12345678900")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("529.982.247-25", Document("cpf", "52998224725")),
        (" 52998224725 ", Document("cpf", "52998224725")),
        ("12.abc.345/01de-35", Document("cnpj", "12ABC34501DE35")),
        ("11222333000181", Document("cnpj", "11222333000181")),
        # spreadsheet dropped leading zeros
        ("191", Document("cpf", "00000000191")),
        ("0000000000191", Document("cnpj", "00000000000191")),
        ("000000000191", Document("cnpj", "00000000000191")),
    ],
)
def test_parse_document(raw: str, expected: Document) -> None:
    assert parse_document(raw) == expected


def test_parse_document_pads_to_cnpj_when_cpf_padding_fails() -> None:
    # A CNPJ whose root starts with zeros, as a spreadsheet number: 00.360.305/0001-04.
    cnpj = "00360305000104"
    assert is_valid_cnpj(cnpj)
    stripped = cnpj.lstrip("0")
    assert not is_valid_cpf(stripped.zfill(11))
    assert parse_document(stripped) == Document("cnpj", cnpj)


@pytest.mark.parametrize("raw", ["", "   ", "123", "123.456.789-00", "abc!", "11.222.333/0001-80"])
def test_parse_document_rejects(raw: str) -> None:
    with pytest.raises(InvalidDocument):
        parse_document(raw)


@given(st.integers(min_value=0, max_value=2**32))
def test_generated_documents_are_valid(seed: int) -> None:
    rng = random.Random(seed)
    cpf = generate_cpf(rng)
    assert len(cpf) == 11 and is_valid_cpf(cpf)
    assert parse_document(format_cpf(cpf)) == Document("cpf", cpf)
    cnpj = generate_cnpj(rng)
    assert cnpj.isdigit() and is_valid_cnpj(cnpj)
    alnum = generate_cnpj(rng, alphanumeric=True)
    assert not alnum.isdigit() and is_valid_cnpj(alnum)
    assert parse_document(format_cnpj(alnum).lower()) == Document("cnpj", alnum)


@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=9, max_value=10), st.data())
def test_changed_check_digit_is_detected(seed: int, position: int, data: st.DataObject) -> None:
    cpf = generate_cpf(random.Random(seed))
    replacement = data.draw(st.sampled_from([d for d in "0123456789" if d != cpf[position]]))
    assert not is_valid_cpf(cpf[:position] + replacement + cpf[position + 1 :])
