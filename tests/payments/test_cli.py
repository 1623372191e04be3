import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from quita.cli import app

runner = CliRunner()
Loader = Callable[[str], Any]

CAIXA_LINHA = "10490.05505 77222.133348 77777.777713 4 32420000032112"


def invoke(*args: str, stdin: str | None = None) -> Any:
    return runner.invoke(app, list(args), input=stdin)


def test_boleto_encode_from_stdin(load_conformance: Loader) -> None:
    entry = next(e for e in load_conformance("boleto.json") if e["kind"] == "generation")
    result = invoke("boleto", "encode", "-", stdin=json.dumps({"bank": entry["bank"], **entry["inputs"]}))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["barcode"] == entry["barcode"]
    assert data["linha_digitavel"] == entry["linha_digitavel"]
    assert data["due_factor"] == entry["due_factor"]
    assert "nosso_numero" in data


def test_boleto_encode_from_file_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(
        json.dumps(
            {
                "bank": "237",
                "due_date": "2026-12-01",
                "amount": "10.00",
                "agencia": "1234",
                "conta": "123456",
                "carteira": "09",
                "nosso_numero": "453",
            }
        ),
        encoding="utf-8",
    )
    result = invoke("boleto", "encode", str(path))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["nosso_numero"] == "09/00000000453-P"
    bad = invoke("boleto", "encode", "-", stdin='{"bank": "999", "amount": "1.00"}')
    assert bad.exit_code == 2 and "não suportado" in bad.stderr
    broken = invoke("boleto", "encode", "-", stdin="{not json")
    assert broken.exit_code == 2 and "JSON inválido" in broken.stderr


def test_boleto_decode_ok_and_invalid() -> None:
    result = invoke("boleto", "decode", CAIXA_LINHA, "--today", "2006-08-01")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data == data | {
        "bank": "104",
        "amount": "321.12",
        "due_date": "2006-08-23",
        "barcode": "10494324200000321120055077222133347777777771",
        "linha_digitavel": CAIXA_LINHA,
    }
    bad = invoke("boleto", "decode", CAIXA_LINHA.replace("77713", "77714"), "--today", "2006-08-01")
    assert bad.exit_code == 2
    assert "DV do campo 3" in bad.stderr and "dv_campo3" in bad.stderr
    arrecadacao = invoke("boleto", "decode", "838600000050096000190009000801782309000343062712")
    assert arrecadacao.exit_code == 2 and "arrecadação" in arrecadacao.stderr


def test_boleto_pdf(tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_text(
        json.dumps(
            {
                "bank": "341",
                "due_date": "2026-12-01",
                "amount": "99.90",
                "agencia": "0810",
                "conta": "53678",
                "carteira": "109",
                "nosso_numero": "12345678",
                "beneficiary": {"name": "Credora", "document": "11.222.333/0001-81", "address": "Rua A"},
                "payer": {"name": "Maria", "document": "529.982.247-25", "address": "Rua B"},
                "items": [{"description": "Parcela", "amount": "99.90"}],
                "instructions": ["Não receber após 30 dias"],
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "b.pdf"
    result = invoke("boleto", "pdf", str(source), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    bad = invoke("boleto", "pdf", "-", "--out", str(out), stdin='{"bank": "341", "amount": "1.00"}')
    assert bad.exit_code == 2


def test_pix_encode_decode(tmp_path: Path) -> None:
    payload_in = {
        "key": "fulano@exemplo.com",
        "amount": "25.00",
        "txid": "PEDIDO4821",
        "merchant_name": "FULANO DE TAL",
        "merchant_city": "SAO PAULO",
    }
    png = tmp_path / "qr.png"
    result = invoke("pix", "encode", "-", "--png", str(png), stdin=json.dumps(payload_in))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["payload"].endswith("63048572")
    assert png.read_bytes().startswith(b"\x89PNG")
    decoded = invoke("pix", "decode", data["payload"])
    assert decoded.exit_code == 0
    assert json.loads(decoded.stdout)["fields"]["62"] == {"05": "PEDIDO4821"}
    bad = invoke("pix", "decode", data["payload"][:-1] + "0")
    assert bad.exit_code == 2 and "CRC" in bad.stderr
    missing = invoke("pix", "encode", "-", stdin='{"merchant_name": "A", "merchant_city": "B"}')
    assert missing.exit_code == 2


def test_cnab_parse(conformance_dir: Path, tmp_path: Path) -> None:
    result = invoke("cnab", "parse", str(conformance_dir / "cnab" / "CNAB240SICOOB.RET"))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["layout"] == 240 and data["bank"] == "756"
    assert data["summary"]["titles"] == 3 and data["summary"]["total_paid_settled"] == "6.00"
    first = data["titles"][0]
    assert first["is_settlement"] is True and first["occurrence_meaning"] == "Liquidação"
    assert first["amount_paid"] == "2.00"
    broken = tmp_path / "broken.ret"
    broken.write_text("garbage\n", encoding="latin-1")
    bad = invoke("cnab", "parse", str(broken))
    assert bad.exit_code == 2 and "linha 1" in bad.stderr


@pytest.mark.parametrize(("on", "total"), [("2026-02-09", "1030.00"), ("2026-01-10", "1000.00")])
def test_payments_amount(on: str, total: str) -> None:
    result = invoke(
        "payments", "amount", "--principal", "1000.00", "--due", "2026-01-10", "--on", on, "--rate", "0.01"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"] == total
    bad = invoke("payments", "amount", "--principal", "10", "--due", "2026-01-10", "--fine", "0.05")
    assert bad.exit_code == 2 and "2%" in bad.stderr


def test_cnab_remessa(tmp_path: Path) -> None:
    payer = {
        "name": "Maria",
        "document": "52998224725",
        "address": "Rua B, 2",
        "district": "Centro",
        "cep": "01001000",
        "city": "Sao Paulo",
        "uf": "SP",
    }
    body = {
        "bank": "001",
        "sequence": 3,
        "generated_at": "2026-11-23T10:00:00",
        "company": {
            "name": "Credora",
            "document": "11222333000181",
            "agencia": "1234",
            "conta": "56789",
            "convenio": "1234567",
        },
        "titles": [
            {
                "nosso_numero": "1",
                "document_number": "D1",
                "due_date": "2026-12-01",
                "amount": "10.00",
                "issue_date": "2026-11-23",
                "payer": payer,
            }
        ],
    }
    out = tmp_path / "remessa.txt"
    result = invoke("cnab", "remessa", "-", "--out", str(out), stdin=json.dumps(body))
    assert result.exit_code == 0, result.output
    records = out.read_bytes().decode("latin-1").split("\r\n")[:-1]
    assert len(records) == 7 and all(len(r) == 240 for r in records)
    body["bank"] = "237"
    bad = invoke("cnab", "remessa", "-", "--out", str(out), stdin=json.dumps(body))
    assert bad.exit_code == 2 and "bank" in bad.stderr
