"""What a valid portfolio row is, and the exact reason (in Portuguese) when it is not.

Portfolios repeat themselves: a debtor with six installments appears on six rows, dates and amounts
recur thousands of times. ``RowParser`` therefore validates the debtor part, the contact part and the
debt part of a row separately and remembers recent results for identical raw cells, which is what
makes a million-row import affordable in pure Python.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Generic, NamedTuple, TypeVar

from quita.br.dates import InvalidDate, parse_br_date
from quita.br.documents import InvalidDocument, normalise_cnpj, parse_document
from quita.br.geo import normalise_uf, uf_from_ibge_code
from quita.br.money import InvalidAmount, parse_brl
from quita.br.phones import InvalidPhone, normalise_phone
from quita.importing.domain.columns import ColumnMap

MAX_PRINCIPAL = Decimal("999999999999.99")
EMAIL_RE = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
NON_DIGITS = re.compile(r"\D")
INSTALLMENT_RE = re.compile(r"0*(\d{1,4})(?:\s*/\s*\d{1,4})?")
PROVENANCES = {"debtor_provided", "contract", "enriched"}
PROVENANCE_ALIASES = {
    "devedor": "debtor_provided", "informado_pelo_devedor": "debtor_provided", "cliente": "debtor_provided",
    "contrato": "contract", "cadastro": "contract", "enriquecimento": "enriched", "enriquecido": "enriched",
    "higienizacao": "enriched", "bureau": "enriched",
}
DEBTOR_FIELDS = ("name", "document", "birth_date", "street", "number", "complement", "district", "city",
                 "ibge_code", "uf", "cep")
DEBT_FIELDS = ("external_id", "contract", "installment", "product", "due_date", "principal", "fine_rate",
               "interest_rate", "original_creditor_name", "original_creditor_cnpj", "creditor_cnpj", "tags")
CACHE_LIMIT = 20_000  # repeats are local (a debtor's rows are adjacent): a small memo catches them


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    value: str
    reason: str


# Records are NamedTuples, not frozen dataclasses: built for every row, they cost a fifth as much.
class DebtorRecord(NamedTuple):
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


class ContactRecord(NamedTuple):
    kind: str
    value: str
    match_key: str | None
    provenance: str


class DebtRecord(NamedTuple):
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


class ParsedRow(NamedTuple):
    row: int
    debtor: DebtorRecord
    contacts: tuple[ContactRecord, ...]
    debt: DebtRecord
    fingerprint: str


# A problem before it is tied to a row: (column key, value, reason). The key is a field name or,
# for phone/e-mail columns, the column position.
Problem = tuple[str | int, str, str]
T = TypeVar("T")


class _Memo(Generic[T]):
    """A bounded memo of validation results keyed by raw cells; cleared when full (bounded memory)."""

    def __init__(self, compute: Callable[[tuple[str, ...]], tuple[T | None, list[Problem]]]) -> None:
        self.compute = compute
        self.results: dict[tuple[str, ...], tuple[T | None, list[Problem]]] = {}

    def __call__(self, key: tuple[str, ...]) -> tuple[T | None, list[Problem]]:
        found = self.results.get(key)
        if found is None:
            if len(self.results) >= CACHE_LIMIT:
                self.results.clear()
            found = self.results[key] = self.compute(key)
        return found


def _optional(text: str, limit: int) -> str | None:
    text = " ".join(text.split())
    return text[:limit] if text else None


def _date(raw: str, field: str, problems: list[Problem], low: int, high: int) -> dt.date | None:
    try:
        value = parse_br_date(raw)
    except InvalidDate as exc:
        problems.append((field, raw, str(exc)))
        return None
    if not low <= value.year <= high:
        problems.append((field, raw, "data fora do intervalo plausível"))
        return None
    return value


def _rate(raw: str, field: str, problems: list[Problem]) -> Decimal | None:
    if not raw:
        return None
    try:
        value = Decimal(raw.replace("%", "").replace(",", ".").strip())
    except InvalidOperation:
        problems.append((field, raw, "percentual inválido (use, por exemplo, 2,00)"))
        return None
    if not value.is_finite() or value < 0 or value > 100:
        problems.append((field, raw, "percentual fora do intervalo de 0 a 100"))
        return None
    return value


def _cnpj(raw: str, field: str, problems: list[Problem]) -> str | None:
    if not raw:
        return None
    try:
        return normalise_cnpj(raw)
    except InvalidDocument as exc:
        problems.append((field, raw, str(exc)))
        return None


def _installment(raw: str, problems: list[Problem]) -> int | None:
    if not raw:
        return None
    match = INSTALLMENT_RE.fullmatch(raw)
    if match is None:
        problems.append(("installment", raw, "número de parcela inválido (use 1, 2, 3 ou 1/12)"))
        return None
    return int(match.group(1))


def _tag_set(raw: str) -> tuple[str, ...] | None:
    return tuple(sorted({t.strip() for t in re.split(r"[,|]", raw) if t.strip()})) if raw else None


def _picker(positions: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """A C-speed extractor of several cells that always returns a tuple (itemgetter of one does not)."""
    if len(positions) == 1:
        only = positions[0]
        return lambda cells: (cells[only],)
    return itemgetter(*positions)


class RowParser:
    """Validates the rows of one file, mapped by ``cmap``; ``today`` bounds plausible dates."""

    def __init__(self, cmap: ColumnMap, *, today: dt.date) -> None:
        self.cmap, self.today = cmap, today
        width = self._width = len(cmap.headers)
        self._contact_positions = cmap.phones + cmap.emails
        # Absent fields read position ``width``: an empty cell appended to every row.
        self._pick_debtor = _picker([cmap.fields.get(f, width) for f in DEBTOR_FIELDS])
        self._document_at = cmap.fields.get("document", width)
        self._pick_debt = _picker([cmap.fields.get(f, width) for f in DEBT_FIELDS])
        self._pick_contacts = _picker([*self._contact_positions, cmap.fields.get("contact_provenance", width)])
        self._dates: dict[str, dt.date | str] = {}
        self._amounts: dict[str, Decimal | str] = {}
        self._births: dict[str, dt.date | str] = {}
        self._ufs: dict[str, str | ValueError] = {}  # a few dozen spellings; folding each costs ~10 µs
        self._derived_id = "external_id" not in cmap.fields
        self._debtor = _Memo[DebtorRecord](self._parse_debtor)
        self._contacts = _Memo[tuple[ContactRecord, ...]](self._parse_contacts)
        header_digest = hashlib.blake2b("\x1f".join(cmap.headers).encode(), digest_size=16)
        self._hash_seed = header_digest

    def parse(self, values: Sequence[str], row: int) -> ParsedRow | list[RowError]:
        """Returns the parsed row, or every problem found in it (not only the first)."""
        cells = [v.strip() for v in values[: self._width]]
        missing = self._width + 1 - len(cells)
        cells.extend([""] * missing)  # short rows, plus the empty cell absent fields point to
        digest = self._hash_seed.copy()
        digest.update("\x1f".join(cells).encode())
        raw_document = cells[self._document_at]
        # Dots and dashes never change what a document parses to (see br.documents): one debtor's rows,
        # masked differently, share one memo entry. A problem is re-checked with the exact cell, so
        # the report shows this row's own value.
        cells[self._document_at] = raw_document.replace(".", "").replace("-", "")
        debtor, debtor_problems = self._debtor(self._pick_debtor(cells))
        if debtor_problems:
            cells[self._document_at] = raw_document
            debtor, debtor_problems = self._parse_debtor(self._pick_debtor(cells))
        contacts, contact_problems = self._contacts(self._pick_contacts(cells))
        debt, debt_problems = self._parse_debt(self._pick_debt(cells))  # unique per row: not memoised
        problems = debtor_problems + contact_problems + debt_problems
        if problems or debtor is None or contacts is None or debt is None:
            return [self._error(row, key, value, reason) for key, value, reason in problems]
        return ParsedRow(row, debtor, contacts, debt, digest.hexdigest())

    def _error(self, row: int, key: str | int, value: str, reason: str) -> RowError:
        column = self.cmap.headers[key] if isinstance(key, int) else self.cmap.header_of(key)
        return RowError(row, column, value, reason)

    def _parse_debtor(self, raw: tuple[str, ...]) -> tuple[DebtorRecord | None, list[Problem]]:
        name_raw, doc_raw, birth_raw, street, number, complement, district, city, ibge_raw, uf_raw, cep_raw = raw
        problems: list[Problem] = []
        name = " ".join(name_raw.split())
        if not name:
            problems.append(("name", "", "nome do devedor vazio"))
        elif len(name) > 200:
            problems.append(("name", name[:40] + "…", "nome com mais de 200 caracteres"))
        document = None
        if not doc_raw:
            problems.append(("document", "", "CPF/CNPJ vazio"))
        else:
            try:
                document = parse_document(doc_raw)
            except InvalidDocument as exc:
                problems.append(("document", doc_raw, str(exc)))
        birth_date = self._birth_date(birth_raw, problems) if birth_raw else None
        uf = None
        if uf_raw:
            known = self._ufs.get(uf_raw)
            if known is None:
                try:
                    known = normalise_uf(uf_raw)
                except ValueError as exc:
                    known = ValueError(str(exc))
                if len(self._ufs) < CACHE_LIMIT:
                    self._ufs[uf_raw] = known
            if isinstance(known, ValueError):
                problems.append(("uf", uf_raw, str(known)))
            else:
                uf = known
        ibge_code = None
        ibge_digits = NON_DIGITS.sub("", ibge_raw) if ibge_raw else ""
        if ibge_digits:
            try:
                ibge_uf = uf_from_ibge_code(ibge_digits) if len(ibge_digits) == 7 else None
            except ValueError:
                ibge_uf = None
            if ibge_uf is None:
                problems.append(("ibge_code", ibge_raw, "código IBGE de município inválido (7 dígitos)"))
            elif uf is not None and ibge_uf != uf:
                problems.append(("ibge_code", ibge_raw, f"código IBGE é de {ibge_uf}, mas a UF da linha é {uf}"))
            else:
                ibge_code, uf = ibge_digits, uf or ibge_uf
        cep = None
        if cep_raw:
            digits = NON_DIGITS.sub("", cep_raw)
            if len(digits) == 7:  # spreadsheets drop the leading zero of CEPs in SP (0xxxx-xxx)
                digits = "0" + digits
            if len(digits) != 8:
                problems.append(("cep", cep_raw, "CEP deve ter 8 dígitos"))
            else:
                cep = digits
        if problems or document is None:
            return None, problems
        return DebtorRecord(  # positional: document, document_kind, name, birth_date, street, number,
            # complement, district, city, uf, cep, ibge_code (keywords cost ~1 µs more per debtor)
            document.value, document.kind, name, birth_date, _optional(street, 200), _optional(number, 20),
            _optional(complement, 100), _optional(district, 100), _optional(city, 120), uf, cep, ibge_code,
        ), problems

    def _birth_date(self, raw: str, problems: list[Problem]) -> dt.date | None:
        """Birth dates recur across debtors: remembered like due dates."""
        found = self._births.get(raw)
        if found is None:
            found_problems: list[Problem] = []
            value = _date(raw, "birth_date", found_problems, 1900, self.today.year)
            if value is not None and value > self.today:
                found_problems.append(("birth_date", raw, "data de nascimento no futuro"))
            found = found_problems[0][2] if found_problems else value
            assert found is not None
            if len(self._births) < CACHE_LIMIT:
                self._births[raw] = found
        if isinstance(found, str):
            problems.append(("birth_date", raw, found))
            return None
        return found

    def _parse_contacts(self, raw: tuple[str, ...]) -> tuple[tuple[ContactRecord, ...] | None, list[Problem]]:
        problems: list[Problem] = []
        provenance_raw = raw[-1]
        provenance = "contract"
        if provenance_raw:
            key = re.sub(r"[^a-z_]", "_", provenance_raw.lower())
            provenance = PROVENANCE_ALIASES.get(key, key)
            if provenance not in PROVENANCES:
                problems.append(("contact_provenance", provenance_raw,
                                 "origem do contato deve ser devedor, contrato ou enriquecimento"))
        contacts: list[ContactRecord] = []
        seen: set[str] = set()
        n_phones = len(self.cmap.phones)
        for index, value in enumerate(raw[:-1]):
            if not value:
                continue
            position = self._contact_positions[index]
            if index < n_phones:
                try:
                    phone = normalise_phone(value)
                except InvalidPhone as exc:
                    problems.append((position, value, str(exc)))
                    continue
                record = ContactRecord("phone", phone.e164, phone.match_key, provenance)
            else:
                email = value.lower()
                if len(email) > 254 or not EMAIL_RE.match(email):
                    problems.append((position, value, "e-mail inválido"))
                    continue
                record = ContactRecord("email", email, None, provenance)
            if record.value not in seen:
                seen.add(record.value)
                contacts.append(record)
        return (None if problems else tuple(contacts)), problems

    def _due_date(self, raw: str, problems: list[Problem]) -> dt.date | None:
        found = self._dates.get(raw)
        if found is None:
            found_problems: list[Problem] = []
            value = _date(raw, "due_date", found_problems, 1950, self.today.year + 30)
            found = value if value is not None else found_problems[0][2]
            if len(self._dates) < CACHE_LIMIT:
                self._dates[raw] = found
        if isinstance(found, str):
            problems.append(("due_date", raw, found))
            return None
        return found

    def _principal(self, amount_raw: str, problems: list[Problem]) -> Decimal | None:
        if not amount_raw:
            problems.append(("principal", "", "valor vazio"))
            return None
        amount = self._amounts.get(amount_raw)
        if amount is None:
            try:
                amount = parse_brl(amount_raw)
            except InvalidAmount as exc:
                amount = str(exc)
            if len(self._amounts) < CACHE_LIMIT:
                self._amounts[amount_raw] = amount
        if isinstance(amount, str):
            problems.append(("principal", amount_raw, amount))
            return None
        if amount <= 0:
            problems.append(("principal", amount_raw, "valor deve ser maior que zero"))
        elif amount > MAX_PRINCIPAL:
            problems.append(("principal", amount_raw, "valor acima do máximo aceito"))
        return amount

    def _parse_debt(self, raw: tuple[str, ...]) -> tuple[DebtRecord | None, list[Problem]]:
        (external_raw, contract_raw, installment_raw, product, due_raw, amount_raw, fine_raw, interest_raw,
         original_name, original_cnpj_raw, creditor_cnpj_raw, tags_raw) = raw
        problems: list[Problem] = []
        due_date = None
        if not due_raw:
            problems.append(("due_date", "", "data de vencimento vazia"))
        else:
            due_date = self._due_date(due_raw, problems)
        principal = self._principal(amount_raw, problems)
        contract = _optional(contract_raw, 80)
        installment = _installment(installment_raw, problems)
        external_id = _optional(external_raw, 200)
        if external_id is None and not self._derived_id:
            problems.append(("external_id", "", "identificador do título vazio"))
        elif external_id is None:
            if contract is None:
                problems.append(("contract", "", "contrato vazio: sem ele não há como identificar o título"))
            else:
                external_id = f"{contract}/{installment}" if installment is not None else contract
        if external_id is not None and len(external_id) > 80:
            problems.append(("external_id", external_id[:40] + "…", "identificador do título com mais de 80 caracteres"))
        fine_rate = _rate(fine_raw, "fine_rate", problems)
        interest_rate = _rate(interest_raw, "interest_rate", problems)
        original_cnpj = _cnpj(original_cnpj_raw, "original_creditor_cnpj", problems)
        creditor_cnpj = _cnpj(creditor_cnpj_raw, "creditor_cnpj", problems)
        tags = _tag_set(tags_raw)
        if problems or external_id is None or due_date is None or principal is None:
            return None, problems
        return DebtRecord(
            external_id=external_id, contract=contract, installment_number=installment,
            product=_optional(product, 100), principal=principal, due_date=due_date, fine_rate=fine_rate,
            interest_rate_monthly=interest_rate, original_creditor_name=_optional(original_name, 200),
            original_creditor_cnpj=original_cnpj, creditor_cnpj=creditor_cnpj, tags=tags,
        ), problems
