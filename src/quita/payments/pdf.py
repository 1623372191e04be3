"""Boleto PDF: recibo do pagador and ficha de compensação, optionally hybrid (boleto + Pix QR).

The barcode is drawn as vector rectangles at FEBRABAN size: Interleaved 2 of 5, narrow module 0.254 mm,
wide = 3 × narrow, which for 44 digits gives 405 modules = 102.87 mm (the "103 mm × 13 mm" of the Caixa
SIGCB spec, CXM §4.2.10.1), 13 mm tall, placed 12 mm above the bottom of the ficha de compensação.
Vector bars keep the code readable by scanners at any print resolution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fpdf import FPDF

from quita.payments.domain.itf import itf_elements
from quita.payments.domain.pix import parse_brcode
from quita.payments.qr import qr_matrix

NARROW_MM = 0.254
BARCODE_HEIGHT_MM = 13.0
BARCODE_X_MM = 12.0
PAGE_HEIGHT_MM = 297.0
FICHA_BOTTOM_MM = 285.0
BARCODE_Y_MM = FICHA_BOTTOM_MM - 12.0 - BARCODE_HEIGHT_MM  # top edge of the bars

BANK_CODE_WITH_DV = {
    "001": "001-9",
    "033": "033-7",
    "104": "104-0",
    "237": "237-2",
    "341": "341-7",
    "748": "748-X",
    "756": "756-0",
}


class BoletoPdfError(ValueError):
    """Invalid input for the PDF (missing beneficiary, bad item amount, …)."""


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    document: str
    address: str


@dataclass(frozen=True, slots=True)
class LineItem:
    description: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class BoletoDocument:
    bank: str
    bank_name: str
    barcode: str
    linha_digitavel: str
    due_date: date | None
    amount: Decimal
    nosso_numero: str
    beneficiary_account: str
    beneficiary: Party
    payer: Party
    items: tuple[LineItem, ...]
    instructions: tuple[str, ...]
    pix_payload: str | None = None
    document_number: str = ""
    issue_date: date | None = None

    @classmethod
    def from_mapping(
        cls, data: dict[str, Any], encode: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> BoletoDocument:
        """Split the PDF-only fields from the boleto fields and encode the latter with ``encode``."""
        data = dict(data)
        beneficiary = _party(data.pop("beneficiary", None), "beneficiary")
        payer = _party(data.pop("payer", None), "payer")
        items = tuple(_item(i, n) for n, i in enumerate(_list(data.pop("items", []), "items"), start=1))
        instructions = tuple(str(s) for s in _list(data.pop("instructions", []), "instructions"))
        pix = data.pop("pix", None)
        document_number = str(data.pop("document_number", ""))
        issue_date = data.pop("issue_date", None)
        if pix is not None:
            if not isinstance(pix, str):
                raise BoletoPdfError("pix: informe o payload BR Code como texto")
            parse_brcode(pix)  # refuse to print a QR that no bank app would accept
        encoded = encode(data)
        account = f"{data.get('agencia', '')} / {data.get('conta') or data.get('codigo_beneficiario') or ''}"
        return cls(
            bank=encoded["bank"],
            bank_name=encoded["bank_name"],
            barcode=encoded["barcode"],
            linha_digitavel=encoded["linha_digitavel"],
            due_date=encoded["due_date"],
            amount=encoded["amount"],
            nosso_numero=encoded["nosso_numero"],
            beneficiary_account=account.strip(" /"),
            beneficiary=beneficiary,
            payer=payer,
            items=items,
            instructions=instructions,
            pix_payload=pix,
            document_number=document_number,
            issue_date=date.fromisoformat(issue_date) if isinstance(issue_date, str) and issue_date else None,
        )


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise BoletoPdfError(f"{name}: esperada uma lista")
    return value


def _party(value: Any, name: str) -> Party:
    if not isinstance(value, dict) or not value.get("name"):
        raise BoletoPdfError(f"{name}: informe ao menos name, document e address")
    return Party(str(value["name"]), str(value.get("document", "")), str(value.get("address", "")))


def _item(value: Any, index: int) -> LineItem:
    if not isinstance(value, dict) or "description" not in value or "amount" not in value:
        raise BoletoPdfError(f"items[{index}]: informe description e amount")
    try:
        amount = Decimal(str(value["amount"]))
    except InvalidOperation as exc:
        raise BoletoPdfError(f"items[{index}]: valor inválido {value['amount']!r}") from exc
    return LineItem(str(value["description"]), amount)


def brl(amount: Decimal) -> str:
    """R$ 1.234,56."""
    text = f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"R$ {text}"


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "Contra apresentação"


def draw_itf(pdf: FPDF, digits: str, x: float, y: float, height: float, narrow: float = NARROW_MM) -> float:
    """Draw the ITF bars; returns the total width in mm."""
    pdf.set_fill_color(0, 0, 0)
    cursor = x
    for is_bar, units in itf_elements(digits):
        width = units * narrow
        if is_bar:
            pdf.rect(cursor, y, width, height, style="F")
        cursor += width
    return cursor - x


def draw_qr(pdf: FPDF, payload: str, x: float, y: float, size: float) -> None:
    matrix = qr_matrix(payload)
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                pdf.rect(x + col_index * module, y + row_index * module, module, module, style="F")


def _field(pdf: FPDF, x: float, y: float, w: float, label: str, value: str, h: float = 8.5) -> None:
    pdf.rect(x, y, w, h)
    pdf.set_xy(x + 0.8, y + 0.4)
    pdf.set_font("Helvetica", size=5.5)
    pdf.cell(w - 1.6, 2.5, _latin1(label))
    pdf.set_xy(x + 0.8, y + 3.4)
    pdf.set_font("Helvetica", "B", size=8)
    pdf.cell(w - 1.6, 4, _latin1(value))


def _bank_header(pdf: FPDF, doc: BoletoDocument, y: float, right_text: str) -> None:
    pdf.set_xy(BARCODE_X_MM, y)
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(48, 8, _latin1(doc.bank_name)[:30])
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(20, 8, BANK_CODE_WITH_DV.get(doc.bank, doc.bank), border="LR", align="C")
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(118, 8, _latin1(right_text), align="R")
    pdf.line(BARCODE_X_MM, y + 8, BARCODE_X_MM + 186, y + 8)


def _party_text(party: Party) -> str:
    return f"{party.name} - {party.document} - {party.address}"


def _recibo(pdf: FPDF, doc: BoletoDocument) -> None:
    x0, width = BARCODE_X_MM, 186.0
    _bank_header(pdf, doc, 10, doc.linha_digitavel)
    pdf.set_xy(x0, 19)
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(width, 5, "Recibo do Pagador")
    y = 25.0
    qr_width = 48.0 if doc.pix_payload else 0.0
    left = width - qr_width
    _field(pdf, x0, y, left, "Beneficiário", _party_text(doc.beneficiary))
    y += 8.5
    _field(pdf, x0, y, left, "Pagador", _party_text(doc.payer))
    y += 8.5
    col = left / 4
    _field(pdf, x0, y, col, "Vencimento", _day(doc.due_date))
    _field(pdf, x0 + col, y, col, "Agência / Código do Beneficiário", doc.beneficiary_account)
    _field(pdf, x0 + 2 * col, y, col, "Nosso Número", doc.nosso_numero)
    _field(pdf, x0 + 3 * col, y, col, "Valor do Documento", brl(doc.amount))
    y += 11
    pdf.set_xy(x0, y)
    pdf.set_font("Helvetica", "B", 8)
    pdf.cell(left, 5, "Discriminação", border="B")
    y += 5.5
    pdf.set_font("Helvetica", size=8)
    for item in doc.items:
        pdf.set_xy(x0, y)
        pdf.cell(left - 35, 4.5, _latin1(item.description))
        pdf.cell(35, 4.5, brl(item.amount), align="R")
        y += 4.5
    pdf.set_xy(x0, y)
    pdf.set_font("Helvetica", "B", 8)
    pdf.cell(left - 35, 5, "Total", border="T")
    pdf.cell(35, 5, brl(sum((i.amount for i in doc.items), Decimal("0.00"))), border="T", align="R")
    if doc.pix_payload:
        draw_qr(pdf, doc.pix_payload, x0 + left + 6, 27, 38)
        pdf.set_xy(x0 + left + 2, 66)
        pdf.set_font("Helvetica", "B", 8)
        pdf.cell(qr_width - 4, 4, "Pague com Pix", align="C")
    # cut line
    pdf.set_dash_pattern(dash=1, gap=1)
    pdf.line(x0, 128, x0 + width, 128)
    pdf.set_dash_pattern()
    pdf.set_xy(x0, 128.5)
    pdf.set_font("Helvetica", size=6)
    pdf.cell(width, 3, "Corte na linha pontilhada", align="R")


def _ficha(pdf: FPDF, doc: BoletoDocument) -> None:
    x0, width = BARCODE_X_MM, 186.0
    y = 140.0
    _bank_header(pdf, doc, y, doc.linha_digitavel)
    y += 9
    right = 46.0
    left = width - right
    _field(pdf, x0, y, left, "Local de Pagamento", "Pagável em qualquer banco até o vencimento")
    _field(pdf, x0 + left, y, right, "Vencimento", _day(doc.due_date))
    y += 8.5
    _field(pdf, x0, y, left, "Beneficiário", _party_text(doc.beneficiary))
    _field(pdf, x0 + left, y, right, "Agência / Código do Beneficiário", doc.beneficiary_account)
    y += 8.5
    quarter = left / 4
    _field(pdf, x0, y, quarter, "Data do Documento", _day(doc.issue_date) if doc.issue_date else "")
    _field(pdf, x0 + quarter, y, quarter, "Número do Documento", doc.document_number)
    _field(pdf, x0 + 2 * quarter, y, quarter, "Espécie", "R$")
    _field(pdf, x0 + 3 * quarter, y, quarter, "Aceite", "N")
    _field(pdf, x0 + left, y, right, "Nosso Número", doc.nosso_numero)
    y += 8.5
    _field(pdf, x0 + left, y, right, "(=) Valor do Documento", brl(doc.amount))
    instructions_top = y
    for label in ("(-) Desconto / Abatimento", "(+) Mora / Multa", "(=) Valor Cobrado"):
        y += 8.5
        _field(pdf, x0 + left, y, right, label, "")
    pdf.rect(x0, instructions_top, left, y + 8.5 - instructions_top)
    pdf.set_xy(x0 + 0.8, instructions_top + 0.5)
    pdf.set_font("Helvetica", size=5.5)
    pdf.cell(left - 2, 2.5, "Instruções (texto de responsabilidade do beneficiário)")
    pdf.set_font("Helvetica", size=7.5)
    for index, text in enumerate(doc.instructions[:7]):
        pdf.set_xy(x0 + 0.8, instructions_top + 4 + index * 4.2)
        pdf.cell(left - 2, 4, _latin1(text)[:120])
    y += 8.5
    pdf.rect(x0, y, width, 12)
    pdf.set_xy(x0 + 0.8, y + 0.4)
    pdf.set_font("Helvetica", size=5.5)
    pdf.cell(40, 2.5, "Pagador")
    pdf.set_font("Helvetica", size=8)
    pdf.set_xy(x0 + 0.8, y + 3.2)
    pdf.cell(width - 2, 4, _latin1(f"{doc.payer.name} - {doc.payer.document}"))
    pdf.set_xy(x0 + 0.8, y + 7.2)
    pdf.cell(width - 2, 4, _latin1(doc.payer.address))
    pdf.set_xy(x0 + 120, BARCODE_Y_MM - 5)
    pdf.set_font("Helvetica", "B", 7)
    pdf.cell(66, 4, "Autenticação Mecânica - Ficha de Compensação", align="R")
    draw_itf(pdf, doc.barcode, BARCODE_X_MM, BARCODE_Y_MM, BARCODE_HEIGHT_MM)


def render_boleto_pdf(doc: BoletoDocument) -> bytes:
    """One A4 page: recibo do pagador on top, ficha de compensação with the barcode at the bottom."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(_latin1(f"Boleto {doc.bank_name} {doc.nosso_numero}"))
    pdf.set_creator("Quita")
    pdf.add_page()
    pdf.set_line_width(0.2)
    _recibo(pdf, doc)
    _ficha(pdf, doc)
    return bytes(pdf.output())
