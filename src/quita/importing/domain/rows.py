"""What a valid portfolio row is, and the exact reason (in Portuguese) when it is not."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from quita.br.dates import InvalidDate, parse_br_date
from quita.br.documents import InvalidDocument, normalise_cnpj, parse_document
from quita.br.geo import normalise_uf, uf_from_ibge_code
from quita.br.money import InvalidAmount, parse_brl
from quita.br.phones import InvalidPhone, normalise_phone
from quita.importing.domain.columns import ColumnMap

MAX_PRINCIPAL = Decimal("999999999999.99")
EMAIL_RE = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
PROVENANCES = {"debtor_provided", "contract", "enriched"}
PROVENANCE_ALIASES = {
    "devedor": "debtor_provided", "informado_pelo_devedor": "debtor_provided", "cliente": "debtor_provided",
    "contrato": "contract", "cadastro": "contract", "enriquecimento": "enriched", "enriquecido": "enriched",
    "higienizacao": "enriched", "bureau": "enriched",
}


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    value: str
    reason: str


@dataclass(frozen=True, slots=True)
class DebtorRecord:
    document: str
    document_kind: str
    name: str
    birth_date: dt.date | None
    street: str | None
    number: str | None
    complement: str | None
    district: str | None
    city: str | None
    uf: str | None
    cep: str | None
    ibge_code: str | None


@dataclass(frozen=True, slots=True)
class ContactRecord:
    kind: str
    value: str
    match_key: str | None
    provenance: str


@dataclass(frozen=True, slots=True)
class DebtRecord:
    external_id: str
    contract: str | None
    installment_number: int | None
    product: str | None
    principal: Decimal
    due_date: dt.date
    fine_rate: Decimal | None
    interest_rate_monthly: Decimal | None
    original_creditor_name: str | None
    original_creditor_cnpj: str | None
    creditor_cnpj: str | None
    tags: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row: int
    debtor: DebtorRecord
    contacts: tuple[ContactRecord, ...]
    debt: DebtRecord
    fingerprint: str


class _Collector:
    __slots__ = ("cmap", "errors", "row", "values")

    def __init__(self, row: int, values: Sequence[str], cmap: ColumnMap) -> None:
        self.row, self.values, self.cmap = row, values, cmap
        self.errors: list[RowError] = []

    def get(self, field_name: str) -> str:
        position = self.cmap.fields.get(field_name)
        if position is None or position >= len(self.values):
            return ""
        return self.values[position].strip()

    def error(self, field_name: str, value: str, reason: str) -> None:
        self.errors.append(RowError(self.row, self.cmap.header_of(field_name), value, reason))

    def error_at(self, position: int, value: str, reason: str) -> None:
        self.errors.append(RowError(self.row, self.cmap.headers[position], value, reason))


def _optional(text: str, limit: int) -> str | None:
    text = " ".join(text.split())
    return text[:limit] if text else None


def _rate(c: _Collector, field_name: str) -> Decimal | None:
    raw = c.get(field_name)
    if not raw:
        return None
    try:
        value = Decimal(raw.replace("%", "").replace(",", ".").strip())
    except InvalidOperation:
        c.error(field_name, raw, "percentual inválido (use, por exemplo, 2,00)")
        return None
    if not value.is_finite() or value < 0 or value > 100:
        c.error(field_name, raw, "percentual fora do intervalo de 0 a 100")
        return None
    return value


def parse_row(values: Sequence[str], row: int, cmap: ColumnMap, *, today: dt.date) -> ParsedRow | list[RowError]:
    """Validates one data row; returns every problem found, not only the first."""
    c = _Collector(row, values, cmap)

    name = " ".join(c.get("name").split())
    if not name:
        c.error("name", "", "nome do devedor vazio")
    elif len(name) > 200:
        c.error("name", name[:40] + "…", "nome com mais de 200 caracteres")

    raw_document = c.get("document")
    document = None
    if not raw_document:
        c.error("document", "", "CPF/CNPJ vazio")
    else:
        try:
            document = parse_document(raw_document)
        except InvalidDocument as exc:
            c.error("document", raw_document, str(exc))

    birth_date = None
    raw_birth = c.get("birth_date")
    if raw_birth:
        try:
            birth_date = parse_br_date(raw_birth)
        except InvalidDate as exc:
            c.error("birth_date", raw_birth, str(exc))
        else:
            if birth_date > today or birth_date.year < 1900:
                c.error("birth_date", raw_birth, "data de nascimento fora do intervalo plausível")

    uf = None
    raw_uf = c.get("uf")
    if raw_uf:
        try:
            uf = normalise_uf(raw_uf)
        except ValueError as exc:
            c.error("uf", raw_uf, str(exc))

    ibge_code = None
    raw_ibge = re.sub(r"\D", "", c.get("ibge_code"))
    if raw_ibge:
        try:
            ibge_uf = uf_from_ibge_code(raw_ibge) if len(raw_ibge) == 7 else None
        except ValueError:
            ibge_uf = None
        if ibge_uf is None:
            c.error("ibge_code", c.get("ibge_code"), "código IBGE de município inválido (7 dígitos)")
        elif uf is not None and ibge_uf != uf:
            c.error("ibge_code", raw_ibge, f"código IBGE é de município de {ibge_uf}, mas a UF da linha é {uf}")
        else:
            ibge_code = raw_ibge
            uf = uf or ibge_uf

    cep = None
    raw_cep = c.get("cep")
    if raw_cep:
        digits = re.sub(r"\D", "", raw_cep)
        if len(digits) == 7:  # spreadsheets drop the leading zero of CEPs in SP (0xxxx-xxx)
            digits = "0" + digits
        if len(digits) != 8:
            c.error("cep", raw_cep, "CEP deve ter 8 dígitos")
        else:
            cep = digits

    raw_due = c.get("due_date")
    due_date = None
    if not raw_due:
        c.error("due_date", "", "data de vencimento vazia")
    else:
        try:
            due_date = parse_br_date(raw_due)
        except InvalidDate as exc:
            c.error("due_date", raw_due, str(exc))
        else:
            if due_date.year < 1950 or due_date.year > today.year + 30:
                c.error("due_date", raw_due, "data de vencimento fora do intervalo plausível")

    raw_amount = c.get("principal")
    principal = None
    if not raw_amount:
        c.error("principal", "", "valor vazio")
    else:
        try:
            principal = parse_brl(raw_amount)
        except InvalidAmount as exc:
            c.error("principal", raw_amount, str(exc))
        else:
            if principal <= 0:
                c.error("principal", raw_amount, "valor deve ser maior que zero")
                principal = None
            elif principal > MAX_PRINCIPAL:
                c.error("principal", raw_amount, "valor acima do máximo aceito")
                principal = None

    contract = _optional(c.get("contract"), 80)
    raw_installment = c.get("installment")
    installment = None
    if raw_installment:
        match = re.fullmatch(r"0*(\d{1,4})(?:\s*/\s*\d{1,4})?", raw_installment)
        if match is None:
            c.error("installment", raw_installment, "número de parcela inválido (use 1, 2, 3 ou 1/12)")
        else:
            installment = int(match.group(1))

    external_id = _optional(c.get("external_id"), 200)
    if external_id is None and "external_id" in cmap.fields:
        c.error("external_id", "", "identificador do título vazio")
    elif external_id is None:
        if contract is None:
            c.error("contract", "", "contrato vazio: sem ele não há como identificar o título")
        else:
            external_id = f"{contract}/{installment}" if installment is not None else contract
    if external_id is not None and len(external_id) > 80:
        c.error("external_id", external_id[:40] + "…", "identificador do título com mais de 80 caracteres")

    fine_rate = _rate(c, "fine_rate")
    interest_rate = _rate(c, "interest_rate")

    original_cnpj = None
    raw_original_cnpj = c.get("original_creditor_cnpj")
    if raw_original_cnpj:
        try:
            original_cnpj = normalise_cnpj(raw_original_cnpj)
        except InvalidDocument as exc:
            c.error("original_creditor_cnpj", raw_original_cnpj, str(exc))
    creditor_cnpj = None
    raw_creditor_cnpj = c.get("creditor_cnpj")
    if raw_creditor_cnpj:
        try:
            creditor_cnpj = normalise_cnpj(raw_creditor_cnpj)
        except InvalidDocument as exc:
            c.error("creditor_cnpj", raw_creditor_cnpj, str(exc))

    provenance = "contract"
    raw_provenance = c.get("contact_provenance")
    if raw_provenance:
        key = re.sub(r"[^a-z_]", "_", raw_provenance.lower())
        provenance = PROVENANCE_ALIASES.get(key, key)
        if provenance not in PROVENANCES:
            c.error("contact_provenance", raw_provenance, "origem do contato deve ser devedor, contrato ou enriquecimento")

    contacts: list[ContactRecord] = []
    seen_contacts: set[str] = set()
    for position in cmap.phones:
        raw_phone = values[position].strip() if position < len(values) else ""
        if not raw_phone:
            continue
        try:
            phone = normalise_phone(raw_phone)
        except InvalidPhone as exc:
            c.error_at(position, raw_phone, str(exc))
            continue
        if phone.e164 not in seen_contacts:
            seen_contacts.add(phone.e164)
            contacts.append(ContactRecord("phone", phone.e164, phone.match_key, provenance))
    for position in cmap.emails:
        raw_email = values[position].strip() if position < len(values) else ""
        if not raw_email:
            continue
        email = raw_email.lower()
        if len(email) > 254 or not EMAIL_RE.match(email):
            c.error_at(position, raw_email, "e-mail inválido")
            continue
        if email not in seen_contacts:
            seen_contacts.add(email)
            contacts.append(ContactRecord("email", email, None, provenance))

    tags_raw = c.get("tags")
    tags = tuple(sorted({t.strip() for t in re.split(r"[,|]", tags_raw) if t.strip()})) if tags_raw else None

    if c.errors:
        return c.errors
    assert document is not None and due_date is not None and principal is not None and external_id is not None
    debtor = DebtorRecord(
        document=document.value, document_kind=document.kind, name=name, birth_date=birth_date,
        street=_optional(c.get("street"), 200), number=_optional(c.get("number"), 20),
        complement=_optional(c.get("complement"), 100), district=_optional(c.get("district"), 100),
        city=_optional(c.get("city"), 120), uf=uf, cep=cep, ibge_code=ibge_code,
    )
    debt = DebtRecord(
        external_id=external_id, contract=contract, installment_number=installment,
        product=_optional(c.get("product"), 100), principal=principal, due_date=due_date, fine_rate=fine_rate,
        interest_rate_monthly=interest_rate, original_creditor_name=_optional(c.get("original_creditor_name"), 200),
        original_creditor_cnpj=original_cnpj, creditor_cnpj=creditor_cnpj, tags=tags,
    )
    contacts_t = tuple(contacts)
    return ParsedRow(row, debtor, contacts_t, debt, fingerprint(debtor, contacts_t, debt))


def fingerprint(debtor: DebtorRecord, contacts: tuple[ContactRecord, ...], debt: DebtRecord) -> str:
    """A stable digest of everything a row says; equal digests mean re-importing changes nothing."""
    text = repr((debtor, contacts, debt))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
