import datetime
from zoneinfo import ZoneInfo

import pytest

from quita.br.geo import (
    IBGE_UF_CODES,
    MUNICIPALITIES,
    UF_CEP_RANGES,
    UF_TIMEZONES,
    UFS,
    ibge_check_digit,
    is_valid_ibge_municipality_code,
    municipality_by_ibge_code,
    normalise_cep,
    normalise_uf,
    uf_from_cep,
    uf_from_ibge_code,
)
from quita.br.phones import DDD_TO_UF


def test_tables_cover_every_uf() -> None:
    assert len(UFS) == 27
    assert set(UF_TIMEZONES) == set(UFS) == set(IBGE_UF_CODES) == set(UF_CEP_RANGES)
    assert len(set(IBGE_UF_CODES.values())) == 27
    assert {m.uf for m in MUNICIPALITIES} == set(UFS)


def test_time_zones_exist_and_match_legal_offsets() -> None:
    # Lei 12.876/2013 offsets, no DST since 2019 (compliance-br.md §10).
    expected_hours = {
        "AC": -5,
        "AM": -4,
        "MT": -4,
        "MS": -4,
        "RO": -4,
        "RR": -4,
        "SP": -3,
        "PE": -3,
        "DF": -3,
    }
    moment = datetime.datetime(2026, 1, 15, 12, tzinfo=datetime.UTC)
    for uf, zones in UF_TIMEZONES.items():
        for zone in zones:
            ZoneInfo(zone)
        if uf in expected_hours:
            offset = moment.astimezone(ZoneInfo(zones[0])).utcoffset()
            assert offset == datetime.timedelta(hours=expected_hours[uf]), uf
    assert "America/Eirunepe" in UF_TIMEZONES["AM"]
    assert "America/Noronha" in UF_TIMEZONES["PE"]


@pytest.mark.parametrize("raw", ["sp", " SP ", "São Paulo", "sao paulo", "SAO  PAULO", "são paulo"])
def test_normalise_uf(raw: str) -> None:
    assert normalise_uf(raw) == "SP"


def test_normalise_uf_names() -> None:
    for uf, name in UFS.items():
        assert normalise_uf(name) == uf
        assert normalise_uf(uf.lower()) == uf
    assert normalise_uf("Amapa") == "AP"
    assert normalise_uf("espirito santo") == "ES"


@pytest.mark.parametrize("raw", ["", "  ", "XX", "São", "Brasil", "S P"])
def test_normalise_uf_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="UF"):
        normalise_uf(raw)


def test_ibge_codes() -> None:
    assert IBGE_UF_CODES["SP"] == 35
    assert uf_from_ibge_code(3550308) == "SP"
    assert uf_from_ibge_code("5300108") == "DF"
    assert uf_from_ibge_code(35) == "SP"
    for bad in ["", "99", "1", "abc", "3550308x", "9999999"]:
        with pytest.raises(ValueError):
            uf_from_ibge_code(bad)


def test_ibge_check_digit_on_known_capitals() -> None:
    known = {"3550308": "SP", "3304557": "RJ", "3106200": "MG", "5300108": "DF", "1302603": "AM"}
    for code, uf in known.items():
        assert is_valid_ibge_municipality_code(code)
        assert ibge_check_digit(code[:6]) == int(code[6])
        assert uf_from_ibge_code(code) == uf
    assert not is_valid_ibge_municipality_code("3550307")  # wrong DV
    assert not is_valid_ibge_municipality_code("9950308")  # no such UF
    assert not is_valid_ibge_municipality_code("355030")
    assert not is_valid_ibge_municipality_code("35503080")


def test_municipality_table_is_consistent() -> None:
    codes = [m.ibge_code for m in MUNICIPALITIES]
    assert len(codes) == len(set(codes))
    for m in MUNICIPALITIES:
        assert is_valid_ibge_municipality_code(m.ibge_code), m
        assert uf_from_ibge_code(m.ibge_code) == m.uf, m
        assert DDD_TO_UF[m.ddd] == m.uf, m
        assert m.timezone in UF_TIMEZONES[m.uf], m
        lo, hi = m.cep_range
        assert uf_from_cep(f"{lo:05d}000") == m.uf, m
        assert uf_from_cep(f"{hi:05d}999") == m.uf, m
        assert municipality_by_ibge_code(m.ibge_code) == m


def test_cep() -> None:
    assert normalise_cep("01310-100") == "01310100"
    assert normalise_cep("1310100") == "01310100"
    assert uf_from_cep("70040010") == "DF"
    assert uf_from_cep("74000000") == "GO"
    assert uf_from_cep("69301000") == "RR"
    assert uf_from_cep("00100000") is None
    for bad in ["", "abc", "123", "00100000", "013101000"]:
        with pytest.raises(ValueError, match="CEP"):
            normalise_cep(bad)
