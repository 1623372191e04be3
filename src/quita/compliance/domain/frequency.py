"""Frequency caps per PERSON (FREQ-01..03): counted across every debt, creditor and channel.

Each cap is expressed as "not before" a moment, so the engine can combine it with the contact windows and
walk to the earliest moment that satisfies everything at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from quita.compliance.domain.calendar import DebtorCalendar
from quita.compliance.domain.facts import Attempt
from quita.compliance.domain.ruleset import FrequencyRules

WEEK = timedelta(days=7)


def gap_ok_from(attempts: Sequence[Attempt], rules: FrequencyRules) -> datetime | None:
    """Earliest moment the minimum gap since the last attempt has passed (None: no previous attempt)."""
    if not attempts or rules.min_gap_hours <= 0:
        return None
    return attempts[-1].at + timedelta(hours=rules.min_gap_hours)


def daily_ok_from(
    moment: datetime, attempts: Sequence[Attempt], rules: FrequencyRules, zone: ZoneInfo
) -> datetime:
    """``moment`` if today's (debtor-local) cap is not reached, else the next local midnight."""
    today = moment.astimezone(zone).date()
    used = sum(1 for a in attempts if a.at.astimezone(zone).date() == today and a.at <= moment)
    if used < rules.max_per_day:
        return moment
    tomorrow = today + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=zone)


def weekly_ok_from(moment: datetime, attempts: Sequence[Attempt], rules: FrequencyRules) -> datetime:
    """``moment`` if fewer than the cap fall in the rolling 7 days (moment − 7 d, moment], else when one drops out."""
    recent = [a.at for a in attempts if moment - WEEK < a.at <= moment]
    if len(recent) < rules.max_per_week:
        return moment
    return recent[len(recent) - rules.max_per_week] + WEEK


def unanswered_streak(
    now: datetime, attempts: Sequence[Attempt], last_inbound_at: datetime | None, rules: FrequencyRules
) -> int:
    """Unanswered attempts within the look-back window since the person last answered or wrote to us."""
    since = now - timedelta(days=rules.unanswered_window_days)
    answered_at = [a.at for a in attempts if a.answered]
    if last_inbound_at is not None:
        answered_at.append(last_inbound_at)
    if answered_at:
        since = max(since, max(answered_at))
    return sum(1 for a in attempts if not a.answered and since < a.at <= now)


def paid_pause_until(
    claim_at: datetime, business_days: int, calendar: DebtorCalendar, zone: ZoneInfo
) -> datetime:
    """Start of the local day after ``business_days`` full business days have passed since the claim."""
    day = claim_at.astimezone(zone).date()
    counted = 0
    for _ in range(business_days * 7 + 30):
        if counted >= business_days:
            break
        day += timedelta(days=1)
        if calendar.is_business_day(day):
            counted += 1
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
