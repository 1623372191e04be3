"""The simulated bank reads Quita's boletos as the real banks do, and its CNAB 240 returns parse back."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from quita.payments.domain.banks import BoletoSpec, encode_boleto
from quita.payments.domain.cnab_return import parse_cnab_return
from quita.payments.domain.matching import charge_key, file_keys
from quita.simulator.psp.domain.boleto import BoletoReadError, linha_to_barcode, read_slip
from quita.simulator.psp.domain.cnab240 import ReturnTitle, build_return_240

BOLETO_JSON = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance" / "boleto.json"


def _generation() -> list[dict[str, Any]]:
    if not BOLETO_JSON.is_file():
        return []
    return [e for e in json.loads(BOLETO_JSON.read_text(encoding="utf-8")) if e["kind"] == "generation"]


@pytest.mark.parametrize(
    "entry", _generation() or [None], ids=lambda e: f"{e['bank']}-{e['source'][:30]}" if e else "absent"
)
def test_bank_reports_a_nosso_numero_that_matches_the_charge(entry: dict[str, Any] | None) -> None:
    if entry is None:
        pytest.skip("conformance boleto.json not available")
    encoded = encode_boleto(BoletoSpec.from_mapping({"bank": entry["bank"], **entry["inputs"]}))
    due = dt.date.fromisoformat(entry["inputs"]["due_date"]) if entry["inputs"].get("due_date") else None
    slip = read_slip(encoded.linha_digitavel, due or dt.date(2026, 1, 1))
    assert slip.barcode == encoded.barcode and slip.bank == entry["bank"]
    assert slip.amount == encoded.amount and slip.due_date == due
    assert charge_key(encoded.bank, encoded.nosso_numero, encoded.nosso_numero_dv) in file_keys(
        slip.nosso_numero
    )


def test_linha_and_barcode_forms() -> None:
    barcode = "00196490000002952950000007777777000008765418"
    assert linha_to_barcode("00190.00009 07777.777009 00087.654182 6 49000000295295") == barcode
    assert linha_to_barcode(barcode) == barcode
    with pytest.raises(BoletoReadError):
        linha_to_barcode("123")


@pytest.mark.parametrize(
    ("bank", "nn"), [("001", "14499570000020673"), ("033", "0000000014062"), ("756", "0000000834")]
)
def test_written_return_parses_with_quita_parser(bank: str, nn: str) -> None:
    title = ReturnTitle(
        nosso_numero=nn,
        amount=Decimal("100.00"),
        paid=Decimal("101.50"),
        due_date=dt.date(2026, 3, 1),
        paid_on=dt.date(2026, 3, 2),
        credit_on=dt.date(2026, 3, 3),
        interest=Decimal("1.50"),
        fee=Decimal("2.00"),
    )
    other = ReturnTitle(
        nosso_numero="1",
        amount=Decimal("5.00"),
        paid=Decimal("0.00"),
        due_date=None,
        paid_on=dt.date(2026, 3, 2),
        credit_on=dt.date(2026, 3, 2),
        occurrence="02",
    )
    text = build_return_240(
        bank,
        [title, other],
        company_name="Acme",
        company_cnpj="11222333000181",
        sequence=7,
        generated=dt.datetime(2026, 3, 3, 8, 0),
    )
    assert all(len(line) == 240 for line in text.split("\r\n") if line)
    parsed = parse_cnab_return(text.encode("latin-1"))
    assert (parsed.layout, parsed.bank, parsed.file_date) == (240, bank, dt.date(2026, 3, 3))
    first, second = parsed.titles
    assert first.is_settlement and not second.is_settlement
    assert nn.lstrip("0") in first.nosso_numero
    assert (first.amount, first.amount_paid, first.interest, first.fee) == (
        Decimal("100.00"),
        Decimal("101.50"),
        Decimal("1.50"),
        Decimal("2.00"),
    )
    assert (first.due_date, first.occurrence_date, first.credit_date) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 3),
    )
