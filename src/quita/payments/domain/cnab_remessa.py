"""CNAB 240 remessa (registration of boletos with the bank) for Banco do Brasil and Caixa (SIGCB).

A registered boleto only exists for the bank once a remessa carrying it is accepted, so the writer is strict:
every field is padded/truncated to its FEBRABAN width, text is upper-case ASCII, and every record is
asserted to be exactly 240 characters before the file is returned.
Structure (FEBRABAN 240): header de arquivo (0), header de lote (1), per title segments P, Q, R (3),
trailer de lote (5), trailer de arquivo (9). Bank-specific fields (convênio, conta, nosso número blocks,
layout versions BB 083/042, Caixa 050/030) follow the banks' CNAB 240 cobrança manuals as implemented
by brcobranca; they must still be homologated with each bank before production use.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from quita.payments.domain.checksums import WEIGHTS_9_TO_2, weighted_sum_from_right

RECORD_LENGTH = 240
SUPPORTED_BANKS = ("001", "104")


class RemessaError(ValueError):
    """Input that cannot be written into a valid remessa; ``field`` names it."""

    def __init__(self, message: str, field_name: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


def num(value: int | str, width: int, name: str) -> str:
    text = str(value)
    if not text.isdigit():
        raise RemessaError(f"apenas dígitos ({text!r})", name)
    if len(text) > width:
        raise RemessaError(f"no máximo {width} dígitos ({text!r})", name)
    return text.zfill(width)


def alpha(value: str, width: int) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    ascii_text = "".join(ch for ch in decomposed if ch.isascii() and ch.isprintable()).upper()
    return ascii_text[:width].ljust(width)


def money(value: Decimal, width: int, name: str) -> str:
    cents = int((value * 100).to_integral_value(ROUND_HALF_EVEN))
    if cents < 0:
        raise RemessaError("valor negativo", name)
    return num(cents, width, name)


def ddmmyyyy(value: date | None) -> str:
    return value.strftime("%d%m%Y") if value else "00000000"


def bb_dv(digits: str) -> str:
    """Agência/conta DV of Banco do Brasil: mod 11, weights 9..2 from the right, 10 → X."""
    remainder = weighted_sum_from_right(digits, WEIGHTS_9_TO_2) % 11
    return "X" if remainder == 10 else str(remainder)


@dataclass(frozen=True, slots=True)
class Company:
    """The creditor (beneficiário) and its bank agreement."""

    name: str
    document: str  # CPF (11) or CNPJ (14) digits
    agencia: str
    conta: str = ""
    convenio: str = ""  # BB: 4-7 digits; Caixa: código do beneficiário (6)
    carteira: str = "17"  # BB carteira
    variacao: str = "019"  # BB variação da carteira
    agencia_dv: str = ""  # Caixa requires it; BB computes it
    conta_dv: str = ""


@dataclass(frozen=True, slots=True)
class Payer:
    name: str
    document: str
    address: str
    district: str
    cep: str
    city: str
    uf: str


@dataclass(frozen=True, slots=True)
class RemessaTitle:
    nosso_numero: str
    document_number: str
    due_date: date
    amount: Decimal
    issue_date: date
    payer: Payer
    fine_percent: Decimal = Decimal("2.00")  # % of the amount, charged from the day after the due date
    interest_percent_month: Decimal = Decimal("1.00")
    company_reference: str = ""  # returned unchanged in the bank's retorno (uso da empresa)
    messages: tuple[str, ...] = field(default=())


def _inscription_type(document: str, name: str) -> str:
    if len(document) == 11:
        return "1"
    if len(document) == 14:
        return "2"
    raise RemessaError("CPF (11) ou CNPJ (14 caracteres) esperado", name)


class _Writer:
    def __init__(self, bank: str, company: Company) -> None:
        if bank not in SUPPORTED_BANKS:
            raise RemessaError(f"banco {bank} sem remessa CNAB 240 (suportados: 001, 104)", "bank")
        self.bank = bank
        self.company = company
        if bank == "001" and not 4 <= len(company.convenio) <= 7:
            raise RemessaError("convênio BB deve ter de 4 a 7 dígitos", "company.convenio")
        if bank == "104" and (len(company.convenio) > 6 or not company.agencia_dv):
            raise RemessaError("Caixa exige código do beneficiário (6) e DV da agência", "company.convenio")

    # -- bank-specific blocks -------------------------------------------------------------------------

    @property
    def versions(self) -> tuple[str, str]:
        return ("083", "042") if self.bank == "001" else ("050", "030")

    @property
    def bank_name(self) -> str:
        return "BANCO DO BRASIL S.A." if self.bank == "001" else "CAIXA ECONOMICA FEDERAL"

    def convenio_block(self) -> str:  # 20 chars
        c = self.company
        if self.bank == "001":
            return (
                num(c.convenio, 9, "company.convenio")
                + "0014"
                + num(c.carteira, 2, "company.carteira")
                + num(c.variacao, 3, "company.variacao")
                + "  "
            )
        return "0" * 20

    def convenio_block_lote(self) -> str:
        if self.bank == "104":
            return num(self.company.convenio, 6, "company.convenio") + "0" * 14
        return self.convenio_block()

    def account_block(self) -> str:  # 20 chars: agência(5) DV(1) + 14 bank-specific
        c = self.company
        agencia = num(c.agencia, 5, "company.agencia")
        if self.bank == "001":
            conta = num(c.conta, 12, "company.conta")
            return agencia + bb_dv(c.agencia) + conta + (c.conta_dv or bb_dv(c.conta)) + " "
        return (
            agencia
            + num(c.agencia_dv, 1, "company.agencia_dv")
            + num(c.convenio, 6, "company.convenio")
            + "0" * 8
        )

    def title_block(self, title: RemessaTitle) -> str:  # positions 24-57 of segment P (34 chars)
        c = self.company
        if self.bank == "001":
            conta = num(c.conta, 12, "company.conta") + (c.conta_dv or bb_dv(c.conta)) + " "
            size = {4: 7, 6: 5, 7: 10}.get(len(c.convenio))
            if size is None:
                raise RemessaError("convênio BB de 4, 6 ou 7 dígitos", "company.convenio")
            nn = num(title.nosso_numero, size, "nosso_numero")
            full = c.convenio + nn + ("" if size == 10 else bb_dv(c.convenio + nn))
            return conta + full.ljust(20)
        return (
            num(c.convenio, 6, "company.convenio")
            + "0" * 11
            + "14"
            + num(title.nosso_numero, 15, "nosso_numero")
        )

    # -- records --------------------------------------------------------------------------------------

    def file_header(self, sequence: int, when: datetime) -> str:
        c = self.company
        return (
            self.bank
            + "0000"
            + "0"
            + " " * 9
            + _inscription_type(c.document, "company.document")
            + num(c.document, 14, "company.document")
            + self.convenio_block()
            + self.account_block()
            + alpha(c.name, 30)
            + alpha(self.bank_name, 30)
            + " " * 10
            + "1"
            + when.strftime("%d%m%Y%H%M%S")
            + num(sequence, 6, "sequence")
            + self.versions[0]
            + "00000"
            + " " * 20
            + alpha("REMESSA-PRODUCAO" if self.bank == "104" else "", 20)
            + " " * 29
        )

    def lot_header(self, sequence: int, when: datetime) -> str:
        c = self.company
        return (
            self.bank
            + "0001"
            + "1"
            + "R"
            + "01"
            + ("00" if self.bank == "104" else "  ")
            + self.versions[1]
            + " "
            + _inscription_type(c.document, "company.document")
            + num(c.document, 15, "company.document")
            + self.convenio_block_lote()
            + self.account_block()
            + alpha(c.name, 30)
            + " " * 80
            + num(sequence, 8, "sequence")
            + when.strftime("%d%m%Y")
            + "0" * 8
            + " " * 33
        )

    def segment_p(self, seq: int, title: RemessaTitle) -> str:
        interest_date = title.due_date + timedelta(days=1)
        return (
            self.bank
            + "0001"
            + "3"
            + num(seq, 5, "sequencial")
            + "P "
            + "01"
            + self.account_block()[:6]
            + self.title_block(title)
            + ("7" if self.bank == "001" else "1")  # carteira: BB 17 simples = 7; Caixa cobrança simples = 1
            + "1"  # forma de cadastramento: com cadastramento (registrada)
            + ("1" if self.bank == "001" else "2")  # tipo de documento
            + ("0" if self.bank == "001" else "2")  # emissão: BB não trata / Caixa: beneficiário emite
            + "0"  # distribuição pelo beneficiário
            + alpha(title.document_number, 15)
            + ddmmyyyy(title.due_date)
            + money(title.amount, 15, "amount")
            + "00000"
            + " "
            + ("02" if self.bank == "001" else "99")  # espécie: DM / outros
            + "N"
            + ddmmyyyy(title.issue_date)
            + ("2" if title.interest_percent_month > 0 else "3")  # 2 = taxa mensal, 3 = isento
            + (ddmmyyyy(interest_date) if title.interest_percent_month > 0 else "0" * 8)
            + money(title.interest_percent_month, 15, "interest_percent_month")
            + "0"
            + "0" * 8
            + "0" * 15
            + "0" * 15
            + "0" * 15
            + alpha(title.company_reference, 25)
            + "3"  # não protestar
            + "00"
            + ("0" if self.bank == "001" else "1")  # baixa/devolução
            + ("000" if self.bank == "001" else "120")
            + "09"
            + "0" * 10
            + " "
        )

    def segment_q(self, seq: int, title: RemessaTitle) -> str:
        p = title.payer
        cep = num(p.cep.replace("-", ""), 8, "payer.cep")
        return (
            self.bank
            + "0001"
            + "3"
            + num(seq, 5, "sequencial")
            + "Q "
            + "01"
            + _inscription_type(p.document, "payer.document")
            + num(p.document, 15, "payer.document")
            + alpha(p.name, 40)
            + alpha(p.address, 40)
            + alpha(p.district, 15)
            + cep
            + alpha(p.city, 15)
            + alpha(p.uf, 2)
            + "0"
            + "0" * 15
            + " " * 40
            + "000"
            + " " * 20
            + " " * 8
        )

    def segment_r(self, seq: int, title: RemessaTitle) -> str:
        fine_date = title.due_date + timedelta(days=1)
        messages = [*title.messages, "", ""][:2]
        return (
            self.bank
            + "0001"
            + "3"
            + num(seq, 5, "sequencial")
            + "R "
            + "01"
            + "0"
            + "0" * 8
            + "0" * 15
            + "0"
            + "0" * 8
            + "0" * 15
            + ("2" if title.fine_percent > 0 else "0")  # 2 = percentual
            + (ddmmyyyy(fine_date) if title.fine_percent > 0 else "0" * 8)
            + money(title.fine_percent, 15, "fine_percent")
            + " " * 10
            + alpha(messages[0], 40)
            + alpha(messages[1], 40)
            + " " * 20
            + "0" * 8
            + "000"
            + "00000"
            + " "
            + "0" * 12
            + " "
            + " "
            + "0"
            + " " * 9
        )

    def lot_trailer(self, records: int, titles: int, total: Decimal) -> str:
        return (
            self.bank
            + "0001"
            + "5"
            + " " * 9
            + num(records, 6, "registros")
            + num(titles, 6, "titulos")
            + money(total, 17, "total")
            + "0" * 69
            + " " * 8
            + " " * 117
        )

    def file_trailer(self, records: int) -> str:
        return (
            self.bank
            + "9999"
            + "9"
            + " " * 9
            + "000001"
            + num(records, 6, "registros")
            + "000000"
            + " " * 205
        )


def build_remessa_240(
    bank: str, company: Company, titles: list[RemessaTitle], *, sequence: int, generated_at: datetime
) -> str:
    """The remessa file as text (CRLF line endings, one lot of cobrança simples)."""
    if not titles:
        raise RemessaError("remessa sem títulos", "titles")
    for index, title in enumerate(titles, start=1):
        if title.fine_percent > 2:
            raise RemessaError("multa acima de 2% (CDC art. 52 §1º)", f"titles[{index}].fine_percent")
        if title.amount <= 0:
            raise RemessaError("valor deve ser positivo", f"titles[{index}].amount")
    writer = _Writer(bank, company)
    records = [writer.file_header(sequence, generated_at), writer.lot_header(sequence, generated_at)]
    seq = 0
    for title in titles:
        for segment in (writer.segment_p, writer.segment_q, writer.segment_r):
            seq += 1
            records.append(segment(seq, title))
    total = sum((t.amount for t in titles), Decimal("0"))
    records.append(writer.lot_trailer(seq + 2, len(titles), total))
    records.append(writer.file_trailer(len(records) + 1))
    for number, record in enumerate(records, start=1):
        if len(record) != RECORD_LENGTH:  # a layout bug, never a user error
            raise AssertionError(f"registro {number} com {len(record)} caracteres")
    return "\r\n".join(records) + "\r\n"
