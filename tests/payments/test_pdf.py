"""Render a boleto to PDF, rasterise it and read the barcode back with a small ITF decoder of our own."""

from decimal import Decimal
from typing import Any

import pypdfium2 as pdfium
import pytest

from quita.payments.cli import encode_from_mapping
from quita.payments.domain.itf import PATTERNS, itf_elements, itf_total_units
from quita.payments.domain.pix import build_static
from quita.payments.pdf import (
    BARCODE_HEIGHT_MM,
    BARCODE_X_MM,
    BARCODE_Y_MM,
    NARROW_MM,
    BoletoDocument,
    BoletoPdfError,
    brl,
    render_boleto_pdf,
)

DPI = 300
PX_PER_MM = DPI / 25.4
DIGIT_FOR_PATTERN = {pattern: digit for digit, pattern in PATTERNS.items()}


def sample_input(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "bank": "104",
        "due_date": "2026-12-15",
        "amount": "1234.56",
        "agencia": "1234",
        "codigo_beneficiario": "123456",
        "nosso_numero": "000000000000123",
        "beneficiary": {
            "name": "Credora Exemplo Ltda",
            "document": "11.222.333/0001-81",
            "address": "Rua A, 1 - São Paulo/SP",
        },
        "payer": {"name": "João da Silva", "document": "529.982.247-25", "address": "Av. B, 2 - Recife/PE"},
        "items": [
            {"description": "Parcela 3/10", "amount": "1200.00"},
            {"description": "Multa e juros", "amount": "34.56"},
        ],
        "instructions": [
            "Não receber após 30 dias do vencimento.",
            "Multa de 2% e juros de 1% a.m. após o vencimento.",
        ],
        "pix": build_static(
            key="11222333000181",
            merchant_name="Credora Exemplo",
            merchant_city="São Paulo",
            amount=Decimal("1234.56"),
        ),
    }
    data.update(overrides)
    return data


def run_lengths(row: list[bool]) -> list[tuple[bool, int]]:
    runs: list[tuple[bool, int]] = []
    for dark in row:
        if runs and runs[-1][0] == dark:
            runs[-1] = (dark, runs[-1][1] + 1)
        else:
            runs.append((dark, 1))
    return runs


def decode_itf_row(row: list[bool]) -> str:
    """Decode ITF from one pixel row (True = dark): start NNNN, digit pairs, stop WNN."""
    runs = run_lengths(row)
    while runs and not runs[0][0]:
        runs.pop(0)
    while runs and not runs[-1][0]:
        runs.pop()
    widths = [w for _, w in runs]
    threshold = (min(widths) + max(widths)) / 2
    kinds = "".join("W" if w > threshold else "N" for w in widths)
    if not kinds.startswith("NNNN") or not kinds.endswith("WNN"):
        raise ValueError(f"start/stop patterns not found: {kinds[:6]}…{kinds[-6:]}")
    body = kinds[4:-3]
    if len(body) % 10:
        raise ValueError("body length is not a multiple of 10 elements")
    digits = []
    for i in range(0, len(body), 10):
        chunk = body[i : i + 10]
        digits.append(DIGIT_FOR_PATTERN[chunk[0::2]])
        digits.append(DIGIT_FOR_PATTERN[chunk[1::2]])
    return "".join(digits)


def test_itf_geometry_is_febraban_size() -> None:
    barcode = "10494324200000321120055077222133347777777771"
    assert itf_total_units(barcode) == 405
    assert abs(405 * NARROW_MM - 103) < 0.2
    assert len(itf_elements(barcode)) == 4 + 22 * 10 + 3
    synthetic = (
        [False] * 20 + [bar for bar, units in itf_elements(barcode) for _ in range(units * 2)] + [False] * 20
    )
    assert decode_itf_row(synthetic) == barcode


def test_pdf_barcode_reads_back() -> None:
    document = BoletoDocument.from_mapping(sample_input(), encode_from_mapping)
    pdf_bytes = render_boleto_pdf(document)
    assert pdf_bytes.startswith(b"%PDF")
    page = pdfium.PdfDocument(pdf_bytes)[0]
    image = page.render(scale=DPI / 72).to_pil().convert("L")
    y = int((BARCODE_Y_MM + BARCODE_HEIGHT_MM / 2) * PX_PER_MM)
    x0 = int((BARCODE_X_MM - 4) * PX_PER_MM)
    x1 = int((BARCODE_X_MM + 110) * PX_PER_MM)
    row = [image.getpixel((x, y)) < 128 for x in range(x0, x1)]
    assert decode_itf_row(row) == document.barcode
    bars_px = sum(1 for dark in row if dark)
    assert bars_px > 0
    width_px = max(i for i, d in enumerate(row) if d) - min(i for i, d in enumerate(row) if d)
    assert abs(width_px / PX_PER_MM - 405 * NARROW_MM) < 1.0  # ≈ 103 mm wide


def test_pdf_without_pix_and_bad_input() -> None:
    data = sample_input()
    del data["pix"]
    assert render_boleto_pdf(BoletoDocument.from_mapping(data, encode_from_mapping)).startswith(b"%PDF")
    with pytest.raises(BoletoPdfError):
        BoletoDocument.from_mapping(sample_input(payer=None), encode_from_mapping)
    with pytest.raises(BoletoPdfError):
        BoletoDocument.from_mapping(
            sample_input(items=[{"description": "x", "amount": "abc"}]), encode_from_mapping
        )


def test_brl_format() -> None:
    assert brl(Decimal("1234567.8")) == "R$ 1.234.567,80"
