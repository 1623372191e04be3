"""Dates in debtors' Portuguese, resolved against a reference day.

"dia 10", "sexta", "15/12", "semana que vem", "fim do mês", "quinto dia útil" become
a calendar date; "quando cair o salário" becomes a *vague* mention with no date so
the dialog knows to ask for one. Resolution looks forward (promises) unless the
caller says the message talks about the past ("paguei sexta").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

from quita.bot.nlu.numbers import UNITS, parse_words


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date found in a message.

    ``value`` is the resolved day (the start of the span for ranges such as
    "semana que vem"), ``until`` the end of a range, ``vague`` says the debtor did
    not commit to one day, so the dialog should ask. ``text`` is the mention as
    found in the normalised message. ``start`` is its offset there.
    """

    text: str
    value: date | None
    until: date | None = None
    vague: bool = False
    start: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "value": self.value.isoformat() if self.value else None,
            "until": self.until.isoformat() if self.until else None,
            "vague": self.vague,
        }


MONTHS: dict[str, int] = {
    "janeiro": 1, "jan": 1, "fevereiro": 2, "fev": 2, "marco": 3, "mar": 3, "abril": 4, "abr": 4,
    "maio": 5, "mai": 5, "junho": 6, "jun": 6, "julho": 7, "jul": 7, "agosto": 8, "ago": 8,
    "setembro": 9, "set": 9, "outubro": 10, "out": 10, "novembro": 11, "nov": 11, "dezembro": 12, "dez": 12,
}  # fmt: skip
WEEKDAYS: dict[str, int] = {
    "segunda": 0,
    "terca": 1,
    "quarta": 2,
    "quinta": 3,
    "sexta": 4,
    "sabado": 5,
    "domingo": 6,
}
ORDINALS: dict[str, int] = {
    "primeiro": 1, "segundo": 2, "terceiro": 3, "quarto": 4, "quinto": 5, "sexto": 6, "setimo": 7,
    "oitavo": 8, "nono": 9, "decimo": 10,
}  # fmt: skip

_MONTH_NAMES = "|".join(sorted((m for m in MONTHS if len(m) > 3), key=len, reverse=True))
_MONTH_ANY = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY_WORD = (
    r"(?:\d{1,2}|primeiro|(?:vinte|trinta)(?: e (?:um|uma|dois|duas|tres|quatro|cinco|seis|sete|oito|nove))?|"
    + "|".join(UNITS)
    + ")"
)
# "segunda via", "quinta parcela": ordinals, not weekdays.
_NOT_WEEKDAY_AFTER = r"(?! (?:via|parcela|prestacao|vez|opcao|chance|tentativa|mensagem|cobranca|feira de))"
_WEEKDAY = r"(?P<wd>segunda|terca|quarta|quinta|sexta|sabado|domingo)(?:[ -]?feira)?" + _NOT_WEEKDAY_AFTER

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("numeric", re.compile(r"\b(?P<d>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?\b")),
    (
        "day_month",
        re.compile(rf"\b(?:dia )?(?P<d>{_DAY_WORD}) (?:de )?(?P<mon>{_MONTH_ANY})\b(?: de (?P<y>\d{{4}}))?"),
    ),
    (
        "business_day",
        re.compile(
            r"\b(?P<n>\d{1,2}|"
            + "|".join(ORDINALS)
            + r")(?:o)? dia util(?P<next> do (?:mes que vem|proximo mes))?"
        ),
    ),
    ("day", re.compile(rf"\bdia (?P<d>{_DAY_WORD})\b(?P<next> do (?:mes que vem|proximo mes))?")),
    ("after_tomorrow", re.compile(r"\bdepois de amanha\b")),
    ("before_yesterday", re.compile(r"\b(?:anteontem|antes de ontem)\b")),
    ("today", re.compile(r"\bhoje\b")),
    ("tomorrow", re.compile(r"\bamanha\b")),
    ("yesterday", re.compile(r"\bontem\b")),
    (
        "next_weekday",
        re.compile(
            rf"\b(?:(?:na |nessa |nesta )?proxima |(?=\w+(?:[ -]?feira)? que vem)){_WEEKDAY}(?: que vem)?"
        ),
    ),
    ("last_weekday", re.compile(rf"\b{_WEEKDAY} passad[ao]\b")),
    ("weekday", re.compile(rf"\b{_WEEKDAY}")),
    (
        "in_n",
        re.compile(
            r"\b(?:daqui(?: a)?|em|dentro de) (?P<n>\d{1,3}|[a-z]+(?: e [a-z]+)?) (?P<unit>dias?|semanas?|mes|meses)\b"
        ),
    ),
    ("end_of_month", re.compile(r"\b(?:fim|final) do mes(?P<next> que vem| seguinte)?\b")),
    (
        "start_of_month",
        re.compile(r"\b(?:comeco|inicio|inicinho) do (?:mes(?P<next> que vem| seguinte)?|proximo mes)\b"),
    ),
    ("next_week", re.compile(r"\b(?:semana que vem|proxima semana|semana seguinte)\b")),
    ("this_week", re.compile(r"\b(?:essa|esta|nessa|nesta) semana\b|\b(?:fim|final) da semana\b")),
    ("weekend", re.compile(r"\b(?:fim|final) de semana\b")),
    ("next_month", re.compile(r"\b(?:mes que vem|proximo mes|mes seguinte)\b")),
    (
        "month_name",
        re.compile(rf"\b(?:em|no mes de|ate|inicio de|comeco de|final de|fim de) (?P<mon>{_MONTH_NAMES})\b"),
    ),
    (
        "vague",
        re.compile(
            r"\b(?:quando|assim que|logo que|depois que) (?:eu )?(?:cair|sair|receber|pingar|entrar|tiver|puder|der|"
            r"arrumar|conseguir|vender|me pagarem|o salario cair|o dinheiro entrar|o inss pagar)\b"
            r"(?: (?:o|a|os|as|meu|minha|meus|minhas|um|uma|do|da))?(?: (?!eu\b|pago\b|vou\b|e\b|ja\b)[a-z0-9]+)?"
            r"|\b(?:mais pra frente|em breve|assim que possivel|qualquer dia|um dia desses)\b"
            r"|\bcom o (?:13|decimo terceiro|fgts)\b"
        ),
    ),
]


@lru_cache(maxsize=8)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("BR", years=year)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def nth_business_day(year: int, month: int, n: int) -> date:
    day = date(year, month, 1)
    count = 0
    while True:
        if is_business_day(day):
            count += 1
            if count == n:
                return day
        day += timedelta(days=1)


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _clamped(year: int, month: int, day: int) -> date:
    """A day of a month; "dia 31" in a 30-day month means its last day."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _day_number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    if word == "primeiro":
        return 1
    parsed = parse_words(word.split(), 0)
    return parsed[0] if parsed else None


def _count(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    if word in ("um", "uma"):
        return 1
    parsed = parse_words(word.split(), 0)
    return parsed[0] if parsed and parsed[1] == len(word.split()) else None


def _day_of_month(today: date, day: int, past: bool, force_next: bool) -> date | None:
    if not 1 <= day <= 31:
        return None
    if force_next:
        return _clamped(*_add_months(today.year, today.month, 1), day)
    if past:
        if day <= today.day:
            return _clamped(today.year, today.month, day)
        return _clamped(*_add_months(today.year, today.month, -1), day)
    if day >= today.day:
        return _clamped(today.year, today.month, day)
    return _clamped(*_add_months(today.year, today.month, 1), day)


def _full_date(today: date, day: int, month: int, year: int | None, past: bool) -> date | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if year is not None:
        year = year + 2000 if year < 100 else year
        years = [year]
    else:
        years = [today.year - 1, today.year] if past else [today.year, today.year + 1]
        if past:
            years.reverse()
    for candidate_year in years:
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if year is not None or (candidate <= today if past else candidate >= today):
            return candidate
    return None


def _weekday(today: date, weekday: int, past: bool, skip_week: bool = False) -> date:
    if past:
        delta = (today.weekday() - weekday) % 7 or 7
        return today - timedelta(days=delta)
    delta = (weekday - today.weekday()) % 7 or 7
    result = today + timedelta(days=delta)
    if skip_week and result - today < timedelta(days=7) and result.isocalendar()[1] == today.isocalendar()[1]:
        result += timedelta(days=7)
    return result


def _resolve(kind: str, m: re.Match[str], today: date, past: bool) -> DateMention | None:
    text, start = m.group(0).strip(), m.start()

    def exact(value: date | None) -> DateMention | None:
        return DateMention(text, value, start=start) if value else None

    def span(first: date, last: date) -> DateMention:
        return DateMention(text, first, last, vague=True, start=start)

    if kind == "numeric":
        year = int(m.group("y")) if m.group("y") else None
        return exact(_full_date(today, int(m.group("d")), int(m.group("m")), year, past))
    if kind == "day_month":
        day = _day_number(m.group("d"))
        year = int(m.group("y")) if m.group("y") else None
        return exact(_full_date(today, day, MONTHS[m.group("mon")], year, past)) if day else None
    if kind == "day":
        day = _day_number(m.group("d"))
        return exact(_day_of_month(today, day, past, bool(m.group("next")))) if day else None
    if kind == "business_day":
        n_word = m.group("n")
        n = int(n_word) if n_word.isdigit() else ORDINALS[n_word]
        if not 1 <= n <= 22:
            return None
        year, month = today.year, today.month
        if m.group("next") or nth_business_day(year, month, n) < today:
            year, month = _add_months(year, month, 1)
        return exact(nth_business_day(year, month, n))
    if kind in ("today", "tomorrow", "after_tomorrow", "yesterday", "before_yesterday"):
        offset = {"today": 0, "tomorrow": 1, "after_tomorrow": 2, "yesterday": -1, "before_yesterday": -2}[
            kind
        ]
        return exact(today + timedelta(days=offset))
    if kind == "next_weekday":
        return exact(_weekday(today, WEEKDAYS[m.group("wd")], past=False, skip_week="que vem" in text))
    if kind == "last_weekday":
        return exact(_weekday(today, WEEKDAYS[m.group("wd")], past=True))
    if kind == "weekday":
        return exact(_weekday(today, WEEKDAYS[m.group("wd")], past))
    if kind == "in_n":
        count = _count(m.group("n"))
        if count is None or count > 366:
            return None
        unit = m.group("unit")
        if unit.startswith("dia"):
            return exact(today + timedelta(days=count))
        if unit.startswith("semana"):
            return exact(today + timedelta(weeks=count))
        year, month = _add_months(today.year, today.month, count)
        return exact(_clamped(year, month, today.day))
    if kind == "end_of_month":
        year, month = _add_months(today.year, today.month, 1 if m.group("next") else 0)
        return exact(_clamped(year, month, 31))
    if kind == "start_of_month":
        year, month = _add_months(today.year, today.month, 1)
        return span(date(year, month, 1), date(year, month, 10))
    if kind == "next_week":
        monday = today + timedelta(days=7 - today.weekday())
        return span(monday, monday + timedelta(days=6))
    if kind == "this_week":
        friday = today + timedelta(days=max(0, 4 - today.weekday()))
        return span(today, friday)
    if kind == "weekend":
        saturday = _weekday(today, 5, past=False) if today.weekday() != 5 else today
        return span(saturday, saturday + timedelta(days=1))
    if kind == "next_month":
        year, month = _add_months(today.year, today.month, 1)
        return span(date(year, month, 1), _clamped(year, month, 31))
    if kind == "month_name":
        month = MONTHS[m.group("mon")]
        year = today.year if month >= today.month else today.year + 1
        if past:
            year = today.year if month <= today.month else today.year - 1
        return span(date(year, month, 1), _clamped(year, month, 31))
    if kind == "vague":
        return DateMention(text, None, vague=True, start=start)
    return None  # pragma: no cover - every kind is handled above


def find_dates(text: str, today: date, past: bool = False) -> list[DateMention]:
    """Every date mention in a normalised message, in order, without overlaps (longest pattern first)."""
    taken: list[tuple[int, int]] = []
    found: list[DateMention] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            mention = _resolve(kind, m, today, past)
            if mention is not None:
                taken.append((m.start(), m.end()))
                found.append(mention)
    return sorted(found, key=lambda mention: mention.start)


def pick_date(mentions: list[DateMention]) -> DateMention | None:
    """The mention the debtor commits to: the last exact date, else the last vague one.

    "recebo dia 5, pago dia 6" commits to the 6th; "quando cair o salário" only to a vague moment.
    """
    exact = [mention for mention in mentions if not mention.vague]
    if exact:
        return exact[-1]
    return mentions[-1] if mentions else None
