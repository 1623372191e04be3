"""Which local days (and half-days) are closed to proactive contact: holidays and pontos facultativos.

Holiday tables come from the ``holidays`` package (national + state, and the São Paulo capital subdivision);
building one is ~0.3 ms, so tables are cached per (subdivision, year) and the engine only does set lookups.
Carnival and friends are computed from Easter here rather than by matching the package's holiday names,
which change with language and version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

SAO_PAULO_CAPITAL_IBGE = 3550308
_SAO_PAULO_CAPITAL_SUBDIV = "São Paulo Capital"


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous Gregorian algorithm, valid for every year of the Gregorian calendar)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=1024)
def public_holidays(subdivision: str | None, year: int) -> Mapping[date, str]:
    """National holidays plus those of ``subdivision`` (a UF, or the package's 'São Paulo Capital')."""
    table = holidays.Brazil(subdiv=subdivision, years=year, language="pt_BR")
    return dict(table.items())


@lru_cache(maxsize=256)
def optional_days(year: int) -> Mapping[date, str]:
    """Pontos facultativos by key (matching ``ruleset.OPTIONAL_DAYS``)."""
    easter = easter_sunday(year)
    return {
        easter - timedelta(days=48): "carnival_mon",
        easter - timedelta(days=47): "carnival_tue",
        easter - timedelta(days=46): "ash_wed_until_14h",
        easter + timedelta(days=60): "corpus_christi",
        date(year, 10, 28): "oct28",
        date(year, 12, 24): "dec24_after_14h",
        date(year, 12, 31): "dec31_after_14h",
    }


_OPTIONAL_LABEL = {
    "carnival_mon": "segunda-feira de Carnaval (ponto facultativo)",
    "carnival_tue": "terça-feira de Carnaval (ponto facultativo)",
    "ash_wed_until_14h": "Quarta-feira de Cinzas até 14h (ponto facultativo)",
    "corpus_christi": "Corpus Christi (ponto facultativo)",
    "oct28": "Dia do Servidor Público (ponto facultativo)",
    "dec24_after_14h": "véspera de Natal após 14h (ponto facultativo)",
    "dec31_after_14h": "véspera de Ano-Novo após 14h (ponto facultativo)",
}
# Half days: (open_from, open_until) in local minutes; the rest of the day stays closed.
_HALF_DAY = {
    "ash_wed_until_14h": (14 * 60, 24 * 60),
    "dec24_after_14h": (0, 14 * 60),
    "dec31_after_14h": (0, 14 * 60),
}


@dataclass(frozen=True, slots=True)
class DayRule:
    """A restriction on one local day. ``open_span`` None means closed all day."""

    label_pt: str
    open_span: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class DebtorCalendar:
    """The closed days that apply to one debtor: holidays where they live plus the tenant's own dates."""

    subdivisions: tuple[str, ...]
    """UFs whose holidays apply (and 'São Paulo Capital' when the municipality is known to be it)."""
    blocked_optional: frozenset[str]
    municipal: frozenset[date] = frozenset()
    tenant_closed: frozenset[date] = frozenset()

    def restriction(self, day: date) -> DayRule | None:
        return _restriction(day, self.subdivisions, self.blocked_optional, self.municipal, self.tenant_closed)

    def is_business_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        rule = self.restriction(day)
        return rule is None or rule.open_span is not None


@lru_cache(maxsize=65536)
def _restriction(
    day: date,
    subdivisions: tuple[str, ...],
    blocked_optional: frozenset[str],
    municipal: frozenset[date],
    tenant_closed: frozenset[date],
) -> DayRule | None:
    for subdivision in subdivisions:
        name = public_holidays(subdivision, day.year).get(day)
        if name is not None:
            where = "" if subdivision is None else f" ({subdivision})"
            return DayRule(f"feriado: {name}{where}")
    if day in municipal:
        return DayRule("feriado municipal")
    if day in tenant_closed:
        return DayRule("data fechada pelo credor")
    optional = optional_days(day.year).get(day)
    if optional is not None and optional in blocked_optional:
        return DayRule(_OPTIONAL_LABEL[optional], _HALF_DAY.get(optional))
    return None


def debtor_calendar(
    holiday_ufs: tuple[str, ...],
    ibge_code: int | None,
    blocked_optional: frozenset[str],
    municipal_holidays: Mapping[int, frozenset[date]],
    tenant_closed: frozenset[date],
) -> DebtorCalendar:
    subdivisions: tuple[str, ...]
    if ibge_code == SAO_PAULO_CAPITAL_IBGE:
        subdivisions = (_SAO_PAULO_CAPITAL_SUBDIV,)
    elif holiday_ufs:
        subdivisions = holiday_ufs
    else:
        subdivisions = (None,)  # type: ignore[assignment]  # national holidays only
    municipal = municipal_holidays.get(ibge_code, frozenset()) if ibge_code is not None else frozenset()
    return DebtorCalendar(subdivisions, blocked_optional, frozenset(municipal), tenant_closed)
