"""Rule set: validation, tenant overrides, version and stable content hash."""

from __future__ import annotations

from typing import Any

import pytest

from quita.compliance.domain import RuleSetError, ruleset_from_mapping, tenant_ruleset
from quita.compliance.rulesets import default_mapping, default_ruleset, load_ruleset


def test_defaults_match_the_reference_table() -> None:
    rules = default_ruleset()
    assert rules.window_for("SP").days[0] == ((8 * 60, 20 * 60),)
    assert rules.window_for("SP").days[6] == ()
    assert rules.window_for("RJ").days[5] == ()
    assert rules.window_for("MG").days[5] == ((10 * 60, 13 * 60),)
    assert rules.window_for("BA").rule_id == "TIME-01"
    assert rules.frequency.max_per_day == 1
    assert rules.frequency.min_gap_hours == 48
    assert rules.frequency.max_per_week == 3
    assert rules.frequency.stop_after_unanswered == 6
    assert rules.prescription.years_default == 5
    assert rules.prescription.bank_block_days_overdue == 1825
    assert rules.calendar.blocked_optional >= {"carnival_mon", "carnival_tue", "ash_wed_until_14h"}


def test_hash_is_stable_and_ignores_key_order() -> None:
    data = default_mapping()
    reordered: dict[str, Any] = dict(reversed(list(data.items())))
    assert ruleset_from_mapping(data).content_hash == ruleset_from_mapping(reordered).content_hash
    assert ruleset_from_mapping(data).content_hash == default_ruleset().content_hash
    data["frequency"]["max_per_week"] = 2
    assert ruleset_from_mapping(data).content_hash != default_ruleset().content_hash


def test_tenant_override_merges_and_versions() -> None:
    rules = load_ruleset(
        {
            "version": "acme-7",
            "frequency": {"max_per_week": 2},
            "windows": {
                "BA": {"rule_id": "TIME-BA", "legal_basis": "política interna", "mon_fri": "09:00-17:00"}
            },
        }
    )
    assert rules.version == "br-2026.1+acme-7"
    assert rules.frequency.max_per_week == 2
    assert rules.frequency.max_per_day == 1  # untouched default
    assert rules.window_for("BA").rule_id == "TIME-BA"
    assert rules.window_for("BA").days[5] == ()


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"version": "x", "frequency": {"max_per_wek": 2}}, "frequency.max_per_wek"),
        ({"version": "x", "frequency": {"max_per_day": 0}}, "frequency.max_per_day"),
        ({"version": "x", "frequency": {"min_gap_hours": "48"}}, "frequency.min_gap_hours"),
        ({"version": "x", "windows": {"SP": {"mon_fri": "20:00-08:00"}}}, "windows.SP.mon_fri"),
        ({"version": "x", "windows": {"SP": {"mon_fri": "8h-20h"}}}, "windows.SP.mon_fri"),
        ({"version": "x", "windows": {"XX": {"rule_id": "T", "legal_basis": "b"}}}, "windows.XX"),
        ({"version": "x", "calendar": {"block_optional": ["carnaval"]}}, "calendar.block_optional"),
        ({"version": "x", "whatsapp": {"allowed_template_categories": ["PROMO"]}}, "whatsapp"),
        ({"frequency": {"max_per_day": 2}}, "version"),
    ],
)
def test_invalid_overrides_name_the_key(overrides: dict[str, Any], fragment: str) -> None:
    with pytest.raises(RuleSetError, match=fragment.replace(".", r"\.")):
        tenant_ruleset(default_mapping(), overrides)


def test_multiple_ranges_per_day() -> None:
    data = default_mapping()
    data["windows"]["default"]["mon_fri"] = "08:00-12:00,13:30-18:00"
    rules = ruleset_from_mapping(data)
    assert rules.window_for(None).days[0] == ((480, 720), (810, 1080))
    assert "13:30" in rules.window_for(None).label_pt
