"""CNAB return files (retorno de cobrança), 240 and 400 positions: what the bank says happened to each title.

Bank files are hostile input: wrong lengths, garbage in numeric fields, half-written files. The parser is
all-or-nothing (a ``CnabError`` names the line and column, nothing is returned half-parsed), because a
partially applied return would mark some debts paid and silently drop others.
Positions: shared/reference/payments-br.md §6; bank deviations are data in the layout tables below.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from quita.payments.domain.cnab_occurrences import table_for

BANK_NAMES = {
    "001": "Banco do Brasil",
    "004": "Banco do Nordeste",
    "033": "Santander",
    "041": "Banrisul",
    "070": "BRB",
    "085": "Ailos",
    "097": "CrediSIS",
    "104": "Caixa Econômica Federal",
    "237": "Bradesco",
    "341": "Itaú",
    "748": "Sicredi",
    "756": "Sicoob",
}


class CnabError(ValueError):
    """Malformed CNAB file; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"linha {line}, coluna {column}: {message}")
        self.line = line
        self.column = column
        self.reason = message


@dataclass(frozen=True, slots=True)
class CnabTitle:
    """One title (boleto) as reported by the bank in a return file."""

    line: int
    nosso_numero: str
    seu_numero: str
    occurrence_code: str
    occurrence_meaning: str
    is_settlement: bool
    motives: tuple[str, ...]
    due_date: date | None
    occurrence_date: date | None
    credit_date: date | None
    amount: Decimal
    amount_paid: Decimal
    amount_credited: Decimal | None
    interest: Decimal
    discount: Decimal
    rebate: Decimal
    iof: Decimal
    fee: Decimal
    other_expenses: Decimal
    other_credits: Decimal
    collecting_bank: str
    collecting_agency: str
    company_reference: str = ""
    pix_key_type: str | None = None
    pix_key: str | None = None
    pix_txid: str | None = None


@dataclass(frozen=True, slots=True)
class CnabSummary:
    titles: int
    settled: int
    occurrences: dict[str, int]
    total_amount: Decimal
    total_paid_settled: Decimal
    total_fees: Decimal


@dataclass(frozen=True, slots=True)
class CnabReturn:
    layout: int  # 240 or 400
    bank: str
    bank_name: str
    file_date: date | None
    occurrence_table: str
    titles: tuple[CnabTitle, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> CnabSummary:
        settled = [t for t in self.titles if t.is_settlement]
        return CnabSummary(
            titles=len(self.titles),
            settled=len(settled),
            occurrences=dict(sorted(Counter(t.occurrence_code for t in self.titles).items())),
            total_amount=sum((t.amount for t in self.titles), Decimal("0.00")),
            total_paid_settled=sum((t.amount_paid for t in settled), Decimal("0.00")),
            total_fees=sum((t.fee for t in self.titles), Decimal("0.00")),
        )


# --- field readers -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    text: str

    def raw(self, start: int, end: int) -> str:
        return self.text[start - 1 : end]

    def text_field(self, start: int, end: int) -> str:
        return self.raw(start, end).strip()

    def money(self, start: int, end: int) -> Decimal:
        value = self.raw(start, end)
        if not value.strip():
            return Decimal("0.00")
        if not value.isdigit():
            raise CnabError(
                f"valor numérico esperado nas posições {start}-{end}, achado {value!r}", self.number, start
            )
        return Decimal(int(value)).scaleb(-2)

    def parse_date(self, start: int, end: int) -> date | None:
        value = self.raw(start, end)
        if not value.strip() or set(value) == {"0"}:
            return None
        if not value.isdigit() or len(value) not in (6, 8):
            raise CnabError(f"data esperada nas posições {start}-{end}, achado {value!r}", self.number, start)
        day, month = int(value[0:2]), int(value[2:4])
        year = (
            int(value[4:])
            if len(value) == 8
            else (2000 + int(value[4:]) if int(value[4:]) < 70 else 1900 + int(value[4:]))
        )
        try:
            return date(year, month, day)
        except ValueError as exc:
            raise CnabError(
                f"data inválida {value!r} nas posições {start}-{end}", self.number, start
            ) from exc

    def header_date(self, start: int, end: int, warnings: list[str]) -> date | None:
        """File dates are informative only: banks misplace them, so a bad one is a warning, not an error."""
        try:
            found = self.parse_date(start, end)
        except CnabError:
            found = None
        if found is None or not 1990 <= found.year <= 2100:
            warnings.append(f"data de geração do arquivo ilegível nas posições {start}-{end} do header")
            return None
        return found

    def motives(self, start: int, end: int) -> tuple[str, ...]:
        value = self.raw(start, end)
        pairs = (value[i : i + 2] for i in range(0, len(value), 2))
        return tuple(p for p in pairs if p.strip() and p != "00")


def _read_lines(content: bytes | str, width: int | None = None) -> list[_Line]:
    text = content.decode("latin-1") if isinstance(content, bytes) else content
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\x1a").split("\n")
    while raw_lines and not raw_lines[-1].strip():
        raw_lines.pop()
    return [_Line(i, line) for i, line in enumerate(raw_lines, start=1)]


# --- CNAB 240 ----------------------------------------------------------------------------------------

# Segment T positions (start, end) per bank family; segment U is FEBRABAN for every bank seen.
_T_FEBRABAN = {
    "nosso_numero": (38, 57),
    "seu_numero": (59, 73),
    "due": (74, 81),
    "amount": (82, 96),
    "bank": (97, 99),
    "agency": (100, 105),
    "company": (106, 130),
    "fee": (199, 213),
    "motives": (214, 223),
}
_T_SANTANDER = {
    "nosso_numero": (41, 53),
    "seu_numero": (55, 69),
    "due": (70, 77),
    "amount": (78, 92),
    "bank": (93, 95),
    "agency": (96, 100),
    "company": (101, 125),
    "fee": (194, 208),
    "motives": (209, 218),
}
_T_LAYOUTS = {"033": _T_SANTANDER}
# Sicoob packs NN+DV(10) + parcela + modalidade + formulário into 38-57; the title id is the first 10.
_NN_OVERRIDES_240 = {"756": (38, 47)}


def _title_240(bank: str, t: _Line, u: _Line) -> CnabTitle:
    pos = _T_LAYOUTS.get(bank, _T_FEBRABAN)
    table = table_for(240, bank)
    code = t.raw(16, 17)
    if code != u.raw(16, 17):
        raise CnabError(
            f"segmento U com ocorrência {u.raw(16, 17)!r} diferente do T ({code!r})", u.number, 16
        )
    nn_start, nn_end = _NN_OVERRIDES_240.get(bank, pos["nosso_numero"])
    return CnabTitle(
        line=t.number,
        nosso_numero=t.text_field(nn_start, nn_end),
        seu_numero=t.text_field(*pos["seu_numero"]),
        occurrence_code=code,
        occurrence_meaning=table.meaning(code),
        is_settlement=code in table.settlement,
        motives=t.motives(*pos["motives"]),
        due_date=t.parse_date(*pos["due"]),
        occurrence_date=u.parse_date(138, 145),
        credit_date=u.parse_date(146, 153),
        amount=t.money(*pos["amount"]),
        amount_paid=u.money(78, 92),
        amount_credited=u.money(93, 107),
        interest=u.money(18, 32),
        discount=u.money(33, 47),
        rebate=u.money(48, 62),
        iof=u.money(63, 77),
        fee=t.money(*pos["fee"]),
        other_expenses=u.money(108, 122),
        other_credits=u.money(123, 137),
        collecting_bank=t.text_field(*pos["bank"]),
        collecting_agency=t.text_field(*pos["agency"]),
        company_reference=t.text_field(*pos["company"]),
    )


def _parse_240(lines: list[_Line]) -> CnabReturn:
    header = lines[0]
    bank = header.raw(1, 3)
    titles: list[CnabTitle] = []
    pending_t: _Line | None = None
    trailer_seen = False
    for line in lines:
        if trailer_seen:
            raise CnabError("registro após o trailer de arquivo", line.number, 1)
        if len(line.text) > 240:
            raise CnabError(
                f"linha com {len(line.text)} caracteres; o layout 240 admite 240", line.number, 241
            )
        if line.raw(1, 3) != bank:
            raise CnabError(f"código do banco {line.raw(1, 3)!r} difere do header ({bank})", line.number, 1)
        kind = line.raw(8, 8)
        if kind not in "01359" or not kind:
            raise CnabError(
                f"tipo de registro {kind!r} desconhecido (esperado 0, 1, 3, 5 ou 9)", line.number, 8
            )
        if kind == "0" and line.number != 1:
            raise CnabError("header de arquivo fora da primeira linha", line.number, 8)
        if kind == "3":
            segment = line.raw(14, 14)
            if segment == "T":
                if pending_t is not None:
                    raise CnabError("segmento T sem o segmento U correspondente", pending_t.number, 14)
                pending_t = line
            elif segment == "U":
                if pending_t is None:
                    raise CnabError("segmento U sem segmento T antes", line.number, 14)
                titles.append(_title_240(bank, pending_t, line))
                pending_t = None
            continue
        if pending_t is not None:
            raise CnabError("segmento T sem o segmento U correspondente", pending_t.number, 14)
        if kind == "9":
            trailer_seen = True
            declared = line.raw(24, 29)
            if not declared.isdigit():
                raise CnabError(f"quantidade de registros inválida: {declared!r}", line.number, 24)
            if int(declared) != len(lines):
                raise CnabError(
                    f"trailer declara {int(declared)} registros, o arquivo tem {len(lines)}", line.number, 24
                )
    if pending_t is not None:
        raise CnabError("segmento T sem o segmento U correspondente", pending_t.number, 14)
    if not trailer_seen:
        raise CnabError("trailer de arquivo (registro 9) ausente: arquivo incompleto", len(lines), 8)
    table = table_for(240, bank)
    warnings: list[str] = []
    file_date = header.header_date(144, 151, warnings)
    return CnabReturn(
        layout=240,
        bank=bank,
        bank_name=BANK_NAMES.get(bank, f"banco {bank}"),
        file_date=file_date,
        occurrence_table=table.name,
        titles=tuple(titles),
        warnings=tuple(warnings),
    )


Positions = dict[str, tuple[int, int] | None]

# --- CNAB 400 ----------------------------------------------------------------------------------------

_P400_ITAU: Positions = {
    "nosso_numero": (63, 70),
    "seu_numero": (117, 126),
    "code": (109, 110),
    "occurred": (111, 116),
    "due": (147, 152),
    "amount": (153, 165),
    "bank": (166, 168),
    "agency": (169, 173),
    "fee": (176, 188),
    "iof": (215, 227),
    "rebate": (228, 240),
    "discount": (241, 253),
    "paid": (254, 266),
    "interest": (267, 279),
    "other_credits": (280, 292),
    "credit": (296, 301),
    "motives": (378, 385),
    "company": (38, 62),
}
_P400_BRADESCO: Positions = {**_P400_ITAU, "nosso_numero": (71, 82), "motives": (319, 328)}
_P400_BANRISUL: Positions = {**_P400_ITAU, "nosso_numero": (63, 72), "motives": (383, 392)}
_P400_BB: Positions = {
    **_P400_ITAU,
    "nosso_numero": (64, 80),
    "credit": (176, 181),
    "fee": (182, 188),
    "other_credits": (280, 292),
    "motives": None,
}
_P400_BRB: Positions = {
    **_P400_ITAU,
    "nosso_numero": (71, 82),
    "code": (109, 110),
    "occurred": (111, 118),
    "due": (149, 156),
    "amount": (157, 169),
    "bank": (170, 172),
    "agency": (173, 177),
    "fee": (180, 192),
    "iof": (219, 231),
    "rebate": (232, 244),
    "discount": (245, 257),
    "paid": (258, 270),
    "interest": None,
    "other_credits": (284, 296),
    "credit": (300, 307),
    "motives": (365, 394),
}
_P400_NORDESTE: Positions = {**_P400_ITAU, "credit": None, "motives": None}
_P400_CREDISIS: Positions = {
    **_P400_ITAU,
    "nosso_numero": (63, 73),
    "code": None,
    "occurred": None,
    "bank": None,
    "agency": None,
    "fee": None,
    "iof": None,
    "rebate": None,
    "discount": None,
    "interest": None,
    "other_credits": None,
    "credit": (176, 181),
    "motives": None,
}

# (bank, detail record type) → positions, and whether the positions were checked against a real file
# with values asserted by an independent parser.
_LAYOUTS_400: dict[tuple[str, str], tuple[Positions, bool]] = {
    ("341", "1"): (_P400_ITAU, True),
    ("033", "1"): (_P400_ITAU, True),
    ("237", "1"): (_P400_BRADESCO, True),
    ("041", "1"): (_P400_BANRISUL, True),
    ("001", "7"): (_P400_BB, True),
    ("001", "1"): ({**_P400_BB, "nosso_numero": (63, 73)}, False),
    ("070", "1"): (_P400_BRB, False),
    ("004", "1"): (_P400_NORDESTE, False),
    ("097", "1"): (_P400_CREDISIS, False),
}


def _title_400(bank: str, line: _Line, pos: Positions) -> CnabTitle:
    table = table_for(400, bank)

    def money(name: str) -> Decimal:
        span = pos.get(name)
        return line.money(*span) if span else Decimal("0.00")

    def when(name: str) -> date | None:
        span = pos.get(name)
        return line.parse_date(*span) if span else None

    def text(name: str) -> str:
        span = pos.get(name)
        return line.text_field(*span) if span else ""

    code = text("code")
    motives_span = pos.get("motives")
    nosso_numero = text("nosso_numero") or text("company")
    return CnabTitle(
        line=line.number,
        nosso_numero=nosso_numero,
        seu_numero=text("seu_numero"),
        occurrence_code=code,
        occurrence_meaning=table.meaning(code) if code else "ocorrência não informada neste layout",
        is_settlement=code in table.settlement,
        motives=line.motives(*motives_span) if motives_span else (),
        due_date=when("due"),
        occurrence_date=when("occurred"),
        credit_date=when("credit"),
        amount=money("amount"),
        amount_paid=money("paid"),
        amount_credited=None,
        interest=money("interest"),
        discount=money("discount"),
        rebate=money("rebate"),
        iof=money("iof"),
        fee=money("fee"),
        other_expenses=Decimal("0.00"),
        other_credits=money("other_credits"),
        collecting_bank=text("bank"),
        collecting_agency=text("agency"),
        company_reference=text("company"),
    )


def _parse_400(lines: list[_Line]) -> CnabReturn:
    header = lines[0]
    bank = header.raw(77, 79)
    if not bank.isdigit():
        raise CnabError(f"código do banco inválido no header: {bank!r}", 1, 77)
    titles: list[CnabTitle] = []
    warnings: list[str] = []
    trailer_seen = False
    for line in lines[1:]:
        if trailer_seen:
            raise CnabError("registro após o trailer (registro 9)", line.number, 1)
        if len(line.text) > 400:
            raise CnabError(
                f"linha com {len(line.text)} caracteres; o layout 400 admite 400", line.number, 401
            )
        kind = line.raw(1, 1)
        if kind == "9":
            trailer_seen = True
            continue
        if kind == "2" and bank == "033":
            if not titles:
                raise CnabError("registro 2 (chave Pix) sem título antes", line.number, 1)
            last = titles[-1]
            titles[-1] = CnabTitle(
                **{
                    **{f: getattr(last, f) for f in last.__dataclass_fields__},
                    "pix_key_type": line.text_field(2, 2),
                    "pix_key": line.text_field(3, 79),
                    "pix_txid": line.text_field(80, 114) or None,
                }
            )
            continue
        layout = _LAYOUTS_400.get((bank, kind))
        if layout is None:
            if kind in "17":
                layout = (_P400_ITAU, False)
            else:
                raise CnabError(f"tipo de registro {kind!r} desconhecido", line.number, 1)
        positions, verified = layout
        if not verified:
            note = f"layout CNAB 400 do banco {bank} (registro {kind}) não verificado com o manual do banco"
            if note not in warnings:
                warnings.append(note)
        titles.append(_title_400(bank, line, positions))
    if not trailer_seen:
        raise CnabError("trailer (registro 9) ausente: arquivo incompleto", len(lines), 1)
    table = table_for(400, bank)
    return CnabReturn(
        layout=400,
        bank=bank,
        bank_name=BANK_NAMES.get(bank, f"banco {bank}"),
        file_date=header.header_date(95, 102 if bank == "070" else 100, warnings),
        occurrence_table=table.name,
        titles=tuple(titles),
        warnings=tuple(warnings),
    )


def parse_cnab_return(content: bytes | str) -> CnabReturn:
    """Parse a CNAB 240 or 400 return file; layout detected from the file header."""
    lines = _read_lines(content)
    if not lines:
        raise CnabError("arquivo vazio", 1, 1)
    first = lines[0]
    if first.raw(1, 9) == "02RETORNO":
        return _parse_400(lines)
    if first.raw(1, 3).isdigit() and first.raw(8, 8) == "0":
        if first.raw(4, 7) != "0000":
            raise CnabError(f"lote do header deve ser 0000, achado {first.raw(4, 7)!r}", 1, 4)
        return _parse_240(lines)
    raise CnabError(
        "header não reconhecido: esperado CNAB 400 ('02RETORNO' no início) ou CNAB 240 (registro 0 na posição 8)",
        1,
        1,
    )
