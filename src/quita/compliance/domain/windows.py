"""Contact windows in local time, and the search for the next moment they are open.

A window is judged per (time zone, state window) pair; when the debtor's location is ambiguous there are
several pairs and a moment is allowed only if it is open in all of them. The search jumps from interval
start to interval start (never minute by minute), which keeps a deferral computation to a few dozen
datetime operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from quita.compliance.domain.calendar import DayRule, DebtorCalendar
from quita.compliance.domain.ruleset import WeeklyWindow

Intervals = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class WindowCheck:
    zone: ZoneInfo
    window: WeeklyWindow


def day_intervals(
    window: WeeklyWindow, calendar: DebtorCalendar, day: date
) -> tuple[Intervals, DayRule | None]:
    """Open intervals (local minutes) of ``day`` after holidays and half-day closures, and the day's rule."""
    base = window.days[day.weekday()]
    rule = calendar.restriction(day)
    if rule is None or not base:
        return base, rule
    if rule.open_span is None:
        return (), rule
    low, high = rule.open_span
    clipped = tuple((max(s, low), min(e, high)) for s, e in base if max(s, low) < min(e, high))
    return clipped, rule


def _at(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=zone).astimezone(UTC)


def earliest_open(
    check: WindowCheck, calendar: DebtorCalendar, moment: datetime, horizon_days: int
) -> tuple[datetime | None, list[DayRule]]:
    """The first moment >= ``moment`` inside the window, and the calendar rules that closed time on the way."""
    local = moment.astimezone(check.zone)
    first_day = local.date()
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    hits: list[DayRule] = []
    for offset in range(horizon_days + 1):
        day = first_day + timedelta(days=offset)
        intervals, rule = day_intervals(check.window, calendar, day)
        if rule is not None and intervals != check.window.days[day.weekday()]:
            relevant = offset > 0 or any(e * 60 > seconds for _, e in check.window.days[day.weekday()])
            if relevant:
                hits.append(rule)
        for start, end in intervals:
            if offset == 0:
                if start * 60 <= seconds < end * 60:
                    return moment, hits
                if seconds < start * 60:
                    return _at(day, start, check.zone), hits
            else:
                return _at(day, start, check.zone), hits
    return None, hits


def is_open(check: WindowCheck, calendar: DebtorCalendar, moment: datetime) -> bool:
    local = moment.astimezone(check.zone)
    minute = local.hour * 60 + local.minute
    intervals, _ = day_intervals(check.window, calendar, local.date())
    return any(s <= minute < e for s, e in intervals)


def earliest_common(
    checks: Sequence[WindowCheck], calendar: DebtorCalendar, moment: datetime, horizon_days: int
) -> tuple[datetime | None, set[str], list[DayRule]]:
    """Earliest moment open in every check; also the window rule ids and calendar rules that pushed it.

    Each step moves to the next opening of some check that is closed at the candidate; since no check can
    open later than the true common opening, the loop stops exactly there.
    """
    limit = moment + timedelta(days=horizon_days)
    candidate = moment
    pushed_by: set[str] = set()
    calendar_hits: list[DayRule] = []
    for _ in range(8 * len(checks) + 64):
        moved = False
        for check in checks:
            nxt, hits = earliest_open(check, calendar, candidate, horizon_days)
            calendar_hits.extend(h for h in hits if h not in calendar_hits)
            if nxt is None or nxt > limit:
                return None, pushed_by, calendar_hits
            if nxt > candidate:
                pushed_by.add(check.window.rule_id)
                candidate = nxt
                moved = True
        if not moved:
            return candidate, pushed_by, calendar_hits
    return None, pushed_by, calendar_hits
