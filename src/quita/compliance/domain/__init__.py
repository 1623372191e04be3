"""Pure compliance logic: facts in, explained decision out. No I/O, no ORM, no clock.

Typical use (the planner)::

    from quita.compliance.domain import evaluate, Scenario, ...
    from quita.compliance.rulesets import load_ruleset
    decision = evaluate(scenario, load_ruleset(tenant_overrides))
"""

from quita.compliance.domain.decision import Decision, Outcome, RuleResult
from quita.compliance.domain.engine import evaluate
from quita.compliance.domain.facts import (
    AccountFacts,
    Attempt,
    Channel,
    ContactFacts,
    ContactKind,
    ContactStatus,
    CreditorKind,
    DebtFacts,
    DebtorFacts,
    DebtStatus,
    History,
    ProposedContact,
    Provenance,
    Scenario,
    TemplateCategory,
    TemplateInfo,
    TemplateStatus,
    TenantCalendar,
)
from quita.compliance.domain.linter import Finding, lint_text
from quita.compliance.domain.ruleset import RuleSet, RuleSetError, ruleset_from_mapping, tenant_ruleset

__all__ = [
    "AccountFacts",
    "Attempt",
    "Channel",
    "ContactFacts",
    "ContactKind",
    "ContactStatus",
    "CreditorKind",
    "DebtFacts",
    "DebtStatus",
    "DebtorFacts",
    "Decision",
    "Finding",
    "History",
    "Outcome",
    "ProposedContact",
    "Provenance",
    "RuleResult",
    "RuleSet",
    "RuleSetError",
    "Scenario",
    "TemplateCategory",
    "TemplateInfo",
    "TemplateStatus",
    "TenantCalendar",
    "evaluate",
    "lint_text",
    "ruleset_from_mapping",
    "tenant_ruleset",
]
