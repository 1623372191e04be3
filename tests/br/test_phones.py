import pytest
from hypothesis import given
from hypothesis import strategies as st

from quita.br.geo import UFS
from quita.br.phones import (
    DDD_TO_UF,
    UF_TO_DDDS,
    InvalidPhone,
    Phone,
    match_key,
    normalise_phone,
    whatsapp_candidates,
)

SP_MOBILE = Phone(e164="+5511987654321", ddd=11, uf="SP", is_mobile=True, match_key="551187654321")


def test_ddd_table_shape() -> None:
    assert len(DDD_TO_UF) == 67
    assert set(DDD_TO_UF.values()) == set(UFS)
    assert set(UF_TO_DDDS) == set(UFS)
    assert all(11 <= ddd <= 99 for ddd in DDD_TO_UF)
    assert sorted(d for ds in UF_TO_DDDS.values() for d in ds) == sorted(DDD_TO_UF)
    for uf, ddds in UF_TO_DDDS.items():
        assert ddds, uf
        assert all(DDD_TO_UF[d] == uf for d in ddds)


@pytest.mark.parametrize(
    ("ddd", "uf"),
    [
        (11, "SP"), (19, "SP"), (21, "RJ"), (24, "RJ"), (27, "ES"), (28, "ES"), (31, "MG"), (38, "MG"),
        (41, "PR"), (46, "PR"), (47, "SC"), (49, "SC"), (51, "RS"), (55, "RS"), (61, "DF"), (62, "GO"),
        (64, "GO"), (63, "TO"), (65, "MT"), (66, "MT"), (67, "MS"), (68, "AC"), (69, "RO"), (71, "BA"),
        (77, "BA"), (79, "SE"), (81, "PE"), (87, "PE"), (82, "AL"), (83, "PB"), (84, "RN"), (85, "CE"),
        (88, "CE"), (86, "PI"), (89, "PI"), (91, "PA"), (93, "PA"), (94, "PA"), (92, "AM"), (97, "AM"),
        (95, "RR"), (96, "AP"), (98, "MA"), (99, "MA"),
    ],
)  # fmt: skip
def test_known_ddds(ddd: int, uf: str) -> None:
    assert DDD_TO_UF[ddd] == uf


@pytest.mark.parametrize("ddd", [10, 20, 23, 25, 26, 29, 30, 36, 39, 40, 50, 52, 56, 57, 58, 59, 60, 70, 72,
                                 76, 78, 80, 90])  # fmt: skip
def test_nonexistent_ddds(ddd: int) -> None:
    assert ddd not in DDD_TO_UF
    with pytest.raises(InvalidPhone, match=f"DDD {ddd} não existe"):
        normalise_phone(f"({ddd}) 98765-4321")


@pytest.mark.parametrize(
    "raw",
    [
        "(11) 98765-4321",
        "11 98765-4321",
        "11987654321",
        "+55 11 9 8765-4321",
        "+55 (11) 98765-4321",
        "+5511987654321",
        "5511987654321",
        "551187654321",  # legacy 12-digit wa_id
        "011987654321",
        "0 11 98765-4321",
        "0 21 11 98765-4321",  # trunk 0 + carrier code 21 + DDD
        "015 11 98765-4321",
        "+55 (011) 98765-4321",
        "11 8765-4321",  # legacy 8-digit mobile
        "(11) 8765.4321",
        "0055 11 98765-4321",
    ],
)
def test_formats_of_one_mobile(raw: str) -> None:
    assert normalise_phone(raw) == SP_MOBILE


def test_local_numbers_need_default_ddd() -> None:
    with pytest.raises(InvalidPhone, match="sem DDD"):
        normalise_phone("98765-4321")
    assert normalise_phone("98765-4321", default_ddd=11) == SP_MOBILE
    assert normalise_phone("8765-4321", default_ddd=11) == SP_MOBILE
    assert normalise_phone("3333-4444", default_ddd=21).e164 == "+552133334444"
    with pytest.raises(InvalidPhone, match="DDD 20"):
        normalise_phone("98765-4321", default_ddd=20)


def test_landline() -> None:
    phone = normalise_phone("(31) 3333-4444")
    assert phone == Phone(e164="+553133334444", ddd=31, uf="MG", is_mobile=False, match_key="553133334444")
    assert whatsapp_candidates(phone.e164) == ("553133334444",)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "vazio"),
        ("   ", "vazio"),
        ("abc", "caracteres inválidos"),
        ("11 98765-4321 ramal 2", "caracteres inválidos"),
        ("+1 415 555 2671", "outro país"),
        ("+351 912 345 678", "outro país"),
        ("0044 20 7946 0958", "não é do Brasil"),
        ("(20) 98765-4321", "DDD 20 não existe"),
        ("11 9876-543", "dígitos de menos"),
        ("(11) 98765-43210", "dígitos demais"),
        ("11 12345-6789", "deve começar com 9"),
        ("11 0765-4321", "não pode começar com 0 ou 1"),
        ("+55 11 9876-543", "dígitos de menos"),
        ("---", "sem dígitos"),
    ],
)
def test_rejects(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhone, match=reason):
        normalise_phone(raw)


def test_match_key_and_candidates() -> None:
    assert match_key("+5511987654321") == match_key("5511987654321") == match_key("551187654321")
    assert match_key("+5511987654321") == "551187654321"
    assert whatsapp_candidates("+5511987654321") == ("5511987654321", "551187654321")
    # real Cloud API wa_ids (reference §5)
    assert match_key("554797192447") == match_key("+5547997192447") == "554797192447"
    for garbage in ["", "hello", "+14155552671", "55209876543210"]:
        with pytest.raises(InvalidPhone):
            match_key(garbage)


# --- properties -------------------------------------------------------------------------------------------

ddds = st.sampled_from(sorted(DDD_TO_UF))
mobile_subscribers = st.integers(min_value=0, max_value=9_999_999).map(lambda n: f"{n:07d}")
mobile_first = st.sampled_from("6789")


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[int, str]:
    """(DDD, 8 digits after the ninth digit)."""
    return draw(ddds), draw(mobile_first) + draw(mobile_subscribers)


@given(mobiles())
def test_wa_id_forms_share_key(line: tuple[int, str]) -> None:
    ddd, eight = line
    with_nine = f"55{ddd}9{eight}"
    without_nine = f"55{ddd}{eight}"
    assert match_key(with_nine) == match_key(without_nine) == match_key("+" + with_nine)
    assert set(whatsapp_candidates("+" + with_nine)) == {with_nine, without_nine}


@given(mobiles())
def test_normalise_idempotent_and_format_variants(line: tuple[int, str]) -> None:
    ddd, eight = line
    phone = normalise_phone(f"({ddd}) 9{eight[:4]}-{eight[4:]}")
    assert phone.is_mobile and phone.uf == DDD_TO_UF[ddd]
    assert normalise_phone(phone.e164) == phone
    variants = [
        f"{ddd}9{eight}",
        f"+55 {ddd} 9{eight[:4]}-{eight[4:]}",
        f"0{ddd}9{eight}",
        f"0 41 {ddd} 9{eight}",
        f"55{ddd}9{eight}",
        f"55{ddd}{eight}",
        f"{ddd} {eight[:4]}-{eight[4:]}",
    ]
    for variant in variants:
        assert normalise_phone(variant) == phone, variant


@given(mobiles(), mobiles())
def test_distinct_lines_distinct_keys(a: tuple[int, str], b: tuple[int, str]) -> None:
    key_a = match_key(f"+55{a[0]}9{a[1]}")
    key_b = match_key(f"+55{b[0]}9{b[1]}")
    assert (key_a == key_b) == (a == b)


@given(ddds, st.sampled_from("2345"), mobile_subscribers)
def test_landlines_are_not_mobiles(ddd: int, first: str, rest: str) -> None:
    phone = normalise_phone(f"{ddd}{first}{rest}")
    assert not phone.is_mobile
    assert phone.e164 == f"+55{ddd}{first}{rest}"
    assert normalise_phone(phone.e164) == phone
