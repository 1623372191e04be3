"""Scenario builders shared by the compliance domain tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from quita.compliance.domain import (
    Channel,
    ContactFacts,
    ContactKind,
    DebtFacts,
    DebtorFacts,
    ProposedContact,
    RuleSet,
    Scenario,
)
from quita.compliance.rulesets import default_ruleset

SP = ZoneInfo("America/Sao_Paulo")

Builder = Callable[..., Scenario]


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, zone: str = "America/Sao_Paulo"
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return default_ruleset()


def build(now: datetime, **kw: Any) -> Scenario:
    """A contact that passes every non-time rule unless a keyword overrides it.

    Keywords: contact=dict(...), debtor=dict(...), facts=dict(...), debt=dict(...), history, account, calendar.
    """
    contact = ProposedContact(now=now, channel=Channel.SMS, kind=ContactKind.COLLECTION)
    debtor = DebtorFacts(uf="SP", identity_confirmed=True)
    facts = ContactFacts()
    debt = DebtFacts(due_date=date(2026, 1, 10), creditor_identification_present=True)
    scenario = Scenario(
        contact=replace(contact, **kw.pop("contact", {})),
        debtor=replace(debtor, **kw.pop("debtor", {})),
        contact_facts=replace(facts, **kw.pop("facts", {})),
        debt=replace(debt, **kw.pop("debt", {})),
    )
    return replace(scenario, **kw)


@pytest.fixture
def make() -> Builder:
    return build
