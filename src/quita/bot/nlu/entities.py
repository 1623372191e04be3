"""Numbers that matter in a negotiation: instalment counts, money amounts, and the promised date.

Amounts carry a *role* because "300 de entrada", "150 por mês" and "500 à vista"
mean different things to an offer, even though all three are a Decimal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from quita.bot.nlu.dates import DateMention, find_dates, pick_date
from quita.bot.nlu.numbers import NUMBER_WORDS, parse_decimal, parse_words

CENT = Decimal("0.01")
MAX_INSTALLMENTS = 120


class AmountRole(StrEnum):
    INSTALLMENT = "installment"  # per instalment / per month
    DOWN_PAYMENT = "down_payment"  # entrada
    TOTAL = "total"  # lump sum, à vista, to settle


@dataclass(frozen=True, slots=True)
class AmountMention:
    value: Decimal
    text: str
    role: AmountRole | None = None

    def as_json(self) -> dict[str, object]:
        return {"value": str(self.value), "text": self.text, "role": self.role.value if self.role else None}


@dataclass(frozen=True, slots=True)
class Entities:
    installments: int | None = None
    date: DateMention | None = None
    amounts: tuple[AmountMention, ...] = field(default_factory=tuple)

    @property
    def amount(self) -> AmountMention | None:
        """The first amount mentioned; all of them are in ``amounts``."""
        return self.amounts[0] if self.amounts else None

    def as_json(self) -> dict[str, object]:
        return {
            "installments": self.installments,
            "date": self.date.as_json() if self.date else None,
            "amount": self.amount.as_json() if self.amount else None,
            "amounts": [a.as_json() for a in self.amounts],
        }


_CURRENCY_BEFORE = {"r$", "rs", "reais"}
_CURRENCY_AFTER = {
    "reais",
    "real",
    "conto",
    "contos",
    "pila",
    "pilas",
    "mango",
    "mangos",
    "pau",
    "paus",
    "dinheiro",
}
_NOT_MONEY_AFTER = {
    "dia", "dias", "semana", "semanas", "mes", "meses", "ano", "anos", "hora", "horas", "h", "min", "minutos",
    "%", "por cento", "vezes", "vez", "parcelas", "parcela", "prestacoes", "x", "filhos", "pessoas",
    "digitos", "primeiros", "ultimos", "opcao",
}  # fmt: skip
_NOT_MONEY_BEFORE = {"dia", "opcao", "numero", "parcela", "item", "cpf", "final", "de 19", "em"}
_SUFFIXED = re.compile(r"^(\d+(?:[.,]\d+)?)(k|mil|reais|real|conto|contos|pila|rs)$")
_INSTALLMENT_WORDS = r"(?:vezes|parcelas|prestacoes|parcelinhas|mensalidades|pagamentos)"
_COUNT = r"(?P<n>\d{1,3}|(?:vinte|trinta|quarenta|cinquenta|sessenta)(?: e [a-z]+)?|[a-z]+)"
_INSTALLMENT_PATTERNS = [
    re.compile(r"\b(?P<n>\d{1,3}) ?x\b"),
    re.compile(rf"\b{_COUNT} {_INSTALLMENT_WORDS}\b"),
    re.compile(
        rf"\b(?:parcel\w*|reparcel\w*|divid\w*|fazer|faz|faco|pagar|fechar|fecha) em {_COUNT}\b(?! (?:dias?|de |/))"
    ),
    re.compile(rf"\bem {_COUNT} meses\b"),
    re.compile(rf"^em {_COUNT}$"),
]
_SINGLE_PAYMENT = re.compile(r"\b(?:a vista|de uma vez|parcela unica|pagamento unico)\b")
# "ja pedi 3 vezes pra sair" counts nagging, not instalments.
_REPETITION_CUES = {"ja", "pedi", "liguei", "mandei", "falei", "tentei", "disse", "avisei", "umas", "quantas"}


def _as_count(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    parsed = parse_words(word.split(), 0)
    if parsed and parsed[1] == len(word.split()):
        return parsed[0]
    return None


def find_installments(text: str) -> tuple[int | None, list[tuple[int, int]]]:
    """The instalment count and the character spans it used (so amounts skip them)."""
    for pattern in _INSTALLMENT_PATTERNS:
        for m in pattern.finditer(text):
            n = _as_count(m.group("n"))
            if n is None or not 1 <= n <= MAX_INSTALLMENTS:
                continue
            before = set(text[: m.start()].split()[-3:])
            if "vez" in m.group(0) and before & _REPETITION_CUES:
                continue
            return n, [(m.start(), m.end())]
    single = _SINGLE_PAYMENT.search(text)
    if single:
        return 1, []
    return None, []


def _role(before: list[str], after: list[str]) -> AmountRole | None:
    ahead = " ".join(after[:3])
    behind = " ".join(before[-3:])
    if re.match(r"(?:de |na |pra |como )?entrada\b", ahead) or re.search(r"\bentrada(?: de)?$", behind):
        return AmountRole.DOWN_PAYMENT
    if re.match(
        r"(?:reais |conto |contos )?(?:por mes|mensa|todo mes|cada|por parcela|ao mes|no mes)", ahead
    ):
        return AmountRole.INSTALLMENT
    if re.search(r"(?:parcelas?|prestac\w*|mensalidade|\d+ ?x)(?: de)?$", behind):
        return AmountRole.INSTALLMENT
    if re.match(r"(?:reais |conto |contos )?(?:a vista|pra quitar|e quit|de uma vez|total|no total)", ahead):
        return AmountRole.TOTAL
    return None


def find_amounts(text: str, skip: list[tuple[int, int]]) -> list[AmountMention]:
    """Money amounts in a normalised message, skipping character spans already read as dates or counts."""
    words = text.split()
    offsets: list[int] = []
    position = 0
    for word in words:
        position = text.index(word, position)
        offsets.append(position)
        position += len(word)

    def skipped(i: int) -> bool:
        return any(start <= offsets[i] < end for start, end in skip)

    found: list[AmountMention] = []
    i = 0
    while i < len(words):
        if skipped(i):
            i += 1
            continue
        word = words[i]
        value: Decimal | None = None
        used = 1
        marked = False
        suffixed = _SUFFIXED.match(word)
        if suffixed:
            value = parse_decimal(
                suffixed.group(1).replace(".", ",")
                if suffixed.group(2) in ("k", "mil")
                else suffixed.group(1)
            )
            if value is not None and suffixed.group(2) in ("k", "mil"):
                value *= 1000
            marked = True
        elif (number := parse_decimal(word)) is not None:
            value = number
            if i + 1 < len(words) and words[i + 1] == "mil":
                value *= 1000
                used = 2
                marked = True
            marked = marked or "," in word
        elif (
            word in NUMBER_WORDS
            and word not in ("um", "uma")
            and not (word == "cento" and words[i - 1 : i] == ["por"])
        ):
            parsed = parse_words(words, i)
            if parsed:
                value, used = Decimal(parsed[0]), parsed[1]
        if value is None:
            i += 1
            continue
        before, after = words[max(0, i - 3) : i], words[i + used : i + used + 4]
        marked = (
            marked
            or bool(before and before[-1] in _CURRENCY_BEFORE)
            or bool(after and after[0] in _CURRENCY_AFTER)
        )
        blocked = bool(after and (after[0] in _NOT_MONEY_AFTER or " ".join(after[:2]) in _NOT_MONEY_AFTER))
        blocked = blocked or bool(before and before[-1] in _NOT_MONEY_BEFORE and not marked)
        is_year = value == value.to_integral_value() and 1990 <= value <= 2100 and not marked
        too_long = word[:1].isdigit() and len(re.sub(r"\D", "", word)) >= 8  # CPF, phone, barcode pieces
        if not blocked and not is_year and not too_long and (marked or value >= 10):
            end = i + used + (1 if after and after[0] in _CURRENCY_AFTER else 0)
            start = i - (1 if before and before[-1] in ("r$", "rs") else 0)
            found.append(
                AmountMention(
                    value.quantize(CENT, rounding=ROUND_HALF_UP),
                    " ".join(words[start:end]),
                    _role(before, words[end : end + 4]),
                )
            )
        i += used
    return found


def extract_entities(text: str, today: date, past: bool = False) -> Entities:
    """All entities from a *normalised* message. ``past`` resolves dates backwards ("paguei sexta")."""
    mentions = find_dates(text, today, past=past)
    installments, spans = find_installments(text)
    date_spans = [(m.start, m.start + len(m.text)) for m in mentions]
    amounts = find_amounts(text, spans + date_spans)
    return Entities(installments=installments, date=pick_date(mentions), amounts=tuple(amounts))
