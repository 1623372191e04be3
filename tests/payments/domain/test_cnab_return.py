from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from quita.payments.domain.cnab_return import CnabError, CnabTitle, parse_cnab_return

Loader = Callable[[str], Any]


def as_date(text: str) -> date | None:
    if not text.strip() or set(text) == {"0"}:
        return None
    year = int(text[4:]) if len(text) == 8 else 2000 + int(text[4:])
    return date(year, int(text[2:4]), int(text[0:2]))


def cents(value: Decimal | None) -> int:
    assert value is not None
    return int(value * 100)


FIELD_CHECKS: dict[str, Callable[[CnabTitle, Any], None]] = {
    "codigo_ocorrencia": lambda t, v: _eq(t.occurrence_code, v),
    "data_vencimento": lambda t, v: _eq(t.due_date, as_date(v)),
    "data_ocorrencia": lambda t, v: _eq(t.occurrence_date, as_date(v)),
    "data_liquidacao": lambda t, v: _eq(t.occurrence_date, as_date(v)),
    "data_credito": lambda t, v: _eq(t.credit_date, as_date(v)),
    "valor_titulo": lambda t, v: _eq(cents(t.amount), int(v)),
    "valor_recebido": lambda t, v: _eq(cents(t.amount_paid), int(v)),
    "juros_mora": lambda t, v: _eq(cents(t.interest), int(v)),
    "desconto": lambda t, v: _eq(cents(t.discount), int(v)),
    "abatimento": lambda t, v: _eq(cents(t.rebate), int(v)),
    "iof": lambda t, v: _eq(cents(t.iof), int(v)),
    "outras_despesas": lambda t, v: _eq(cents(t.other_expenses), int(v)),
    "outros_creditos": lambda t, v: _eq(cents(t.other_credits), int(v)),
    "valor_tarifa": lambda t, v: _eq(cents(t.fee), int(v)),
    "banco_recebedor": lambda t, v: _eq(t.collecting_bank, v),
    "motivo_ocorrencia": lambda t, v: _eq(list(t.motives), v),
}


def _eq(got: object, expected: object) -> None:
    assert got == expected, (got, expected)


def check_first(title: CnabTitle, expected: dict[str, Any], bank: str, layout: int) -> int:
    checked = 0
    for name, value in expected.items():
        if name == "nosso_numero":
            if bank == "001" and layout == 240:
                # BB reports convênio + número (17 digits); the source library keeps only the tail.
                assert title.nosso_numero.endswith(value)
            else:
                assert title.nosso_numero == value
            checked += 1
        elif name in FIELD_CHECKS:
            FIELD_CHECKS[name](title, value)
            checked += 1
    return checked


def test_every_conformance_file_matches_expected(load_conformance: Loader, conformance_dir: Path) -> None:
    expected_entries = load_conformance("cnab/EXPECTED.json")
    files = [e for e in expected_entries if e.get("file")]
    assert files
    total_checks = 0
    for entry in files:
        parsed = parse_cnab_return((conformance_dir / "cnab" / entry["file"]).read_bytes())
        summary = parsed.summary
        layout = 240 if entry["format"].startswith("CNAB240") else 400
        assert parsed.layout == layout, entry["file"]
        if entry["bank"]:
            assert parsed.bank == entry["bank"], entry["file"]
        facts = entry.get("file_facts", {})
        if "segment_T" in facts:
            assert summary.titles == facts["segment_T"] == facts["segment_U"]
        if "record_types" in facts:
            types = facts["record_types"]
            assert summary.titles == types.get("1", 0) + types.get("7", 0)
        if "occurrence_codes" in facts:
            assert summary.occurrences == facts["occurrence_codes"], entry["file"]
        for key, value in facts.items():
            if key.startswith("sum_valor_pago"):
                assert cents(summary.total_paid_settled) == value, entry["file"]
        if "header_file_date" in facts:
            assert parsed.file_date == as_date(facts["header_file_date"])
        spec = entry.get("spec_expected", {})
        if layout == 240 and "records" in spec:
            assert summary.titles == spec["records"]
        first = spec.get("first") or spec.get("first_detail")
        if first:
            total_checks += check_first(parsed.titles[0], first, parsed.bank, layout)
        if "valores_pagos_cents" in spec:
            assert [str(cents(t.amount_paid)) for t in parsed.titles] == spec["valores_pagos_cents"]
            assert {t.occurrence_code for t in parsed.titles} == {spec["codigo_ocorrencia"]}
        if "record_53" in spec:
            with_pix = [t for t in parsed.titles if t.pix_key]
            assert len(with_pix) == 1
            assert with_pix[0].pix_key == spec["record_53"]["codigo_chave_dict"]
            assert with_pix[0].pix_key_type == spec["record_53"]["tipo_chave_dict"]
    assert total_checks > 50


def test_every_file_in_directory_parses(conformance_dir: Path) -> None:
    for path in sorted((conformance_dir / "cnab").iterdir()):
        if path.suffix == ".json":
            continue
        parsed = parse_cnab_return(path.read_bytes())
        assert parsed.titles, path.name


def test_only_settlements_are_paid(conformance_dir: Path) -> None:
    sicredi = parse_cnab_return((conformance_dir / "cnab" / "CNAB240SICREDI.CRT").read_bytes())
    assert [t.is_settlement for t in sicredi.titles] == [False, False]
    assert sicredi.titles[1].occurrence_meaning == "Débito de tarifas/custas"
    bradesco = parse_cnab_return((conformance_dir / "cnab" / "CNAB400BRADESCO.RET").read_bytes())
    assert not any(t.is_settlement for t in bradesco.titles)
    itau = parse_cnab_return((conformance_dir / "cnab" / "CNAB400ITAU.RET").read_bytes())
    baixa = [t for t in itau.titles if t.occurrence_code == "09"]
    assert len(baixa) == 1 and not baixa[0].is_settlement


def _minimal_240() -> list[str]:
    header = "00100000" + " " * 135 + "29122011" + " " * 89
    lot = "00100011T01" + " " * 229
    t = "0010001300001T 06" + " " * 20 + "00000000000000012345" + " " * 16 + "01012026" + "000000000010000"
    u = "0010001300002U 06" + "0" * 60 + "000000000010050" + "0" * 45 + "0201202603012026"
    lot_trailer = "00100015" + " " * 232
    trailer = "00199999         000001000006"
    return [header, lot, t.ljust(240), u.ljust(240), lot_trailer, trailer.ljust(240)]


def test_minimal_240_parses() -> None:
    parsed = parse_cnab_return("\r\n".join(_minimal_240()) + "\r\n")
    (title,) = parsed.titles
    assert title.is_settlement
    assert title.amount == Decimal("100.00")
    assert title.amount_paid == Decimal("100.50")
    assert title.credit_date == date(2026, 1, 3)


@pytest.mark.parametrize(
    ("mutate", "line", "column"),
    [
        (lambda ls: [*ls[:3], ls[3][:77] + "00000000001X005" + ls[3][92:], *ls[4:]], 4, 78),
        (lambda ls: [*ls[:2], ls[2][:73] + "31022026" + ls[2][81:], *ls[3:]], 3, 74),
        (lambda ls: [*ls[:3], *ls[4:]], 3, 14),  # T without U
        (lambda ls: ls[:-1], 5, 8),  # truncated: no trailer
        (lambda ls: [*ls[:-1], "00199999         000001000099"], 6, 24),  # wrong record count
        (lambda ls: [*ls[:2], ls[2] + "X", *ls[3:]], 3, 241),
        (lambda ls: [*ls[:1], "0010001" + "4" + ls[1][8:], *ls[2:]], 2, 8),
    ],
)
def test_malformed_240_names_line_and_column(
    mutate: Callable[[list[str]], list[str]], line: int, column: int
) -> None:
    with pytest.raises(CnabError) as info:
        parse_cnab_return("\n".join(mutate(_minimal_240())))
    assert (info.value.line, info.value.column) == (line, column), str(info.value)


def test_unrecognised_and_empty_files() -> None:
    with pytest.raises(CnabError) as info:
        parse_cnab_return("hello world")
    assert info.value.line == 1
    with pytest.raises(CnabError):
        parse_cnab_return(b"")


def test_malformed_400(conformance_dir: Path) -> None:
    lines = (conformance_dir / "cnab" / "CNAB400ITAU.RET").read_text(encoding="latin-1").splitlines()
    broken = [*lines[:5], lines[5][:253] + "00000000A3790" + lines[5][266:], *lines[6:]]
    with pytest.raises(CnabError) as info:
        parse_cnab_return("\n".join(broken))
    assert (info.value.line, info.value.column) == (6, 254)
    with pytest.raises(CnabError) as info:
        parse_cnab_return("\n".join(lines[:-1]))
    assert "trailer" in str(info.value)
