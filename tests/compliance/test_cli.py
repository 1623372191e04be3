"""`quita compliance check|lint|ruleset`: decision JSON, exit 0 whatever the decision, exit 2 naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from quita.compliance.cli import app

runner = CliRunner()

SCENARIO: dict[str, Any] = {
    "contact": {
        "now": "2026-03-16T13:00:00Z",
        "channel": "whatsapp",
        "kind": "reminder",
        "template": {"name": "lembrete_vencimento", "category": "UTILITY", "status": "APPROVED"},
    },
    "debtor": {"uf": "São Paulo", "ibge_code": 3550308, "ddd": 11, "identity_confirmed": True},
    "contact_facts": {"provenance": "debtor_provided", "whatsapp_opt_in": True},
    "debt": {"due_date": "2026-01-10", "creditor_identification_present": True},
    "history": [{"at": "2026-03-13T14:00:00Z", "creditor": "loja-a"}],
}


def run(tmp_path: Path, data: Any, *extra: str) -> tuple[int, str]:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(app, ["check", str(path), *extra])
    return result.exit_code, result.output


def test_allowed_scenario(tmp_path: Path) -> None:
    code, out = run(tmp_path, SCENARIO)
    assert code == 0
    decision = json.loads(out)
    assert decision["outcome"] == "allowed"
    assert decision["ruleset_version"] == "br-2026.1"
    assert len(decision["ruleset_hash"]) == 16


def test_blocked_and_deferred_still_exit_zero(tmp_path: Path) -> None:
    deceased = {**SCENARIO, "debtor": {**SCENARIO["debtor"], "deceased": True}}
    code, out = run(tmp_path, deceased)
    assert code == 0 and json.loads(out)["outcome"] == "blocked"
    sunday = {**SCENARIO, "contact": {**SCENARIO["contact"], "now": "2026-03-15T13:00:00Z"}}
    code, out = run(tmp_path, sunday)
    decision = json.loads(out)
    assert code == 0 and decision["outcome"] == "deferred"
    assert decision["earliest_at"] == "2026-03-16T11:00:00+00:00"


def test_invalid_field_exits_2_naming_it(tmp_path: Path) -> None:
    bad = {**SCENARIO, "contact": {**SCENARIO["contact"], "channel": "telegram"}}
    code, out = run(tmp_path, bad)
    assert code == 2
    assert "contact.channel" in out
    naive = {**SCENARIO, "contact": {**SCENARIO["contact"], "now": "2026-03-16T10:00:00"}}
    code, out = run(tmp_path, naive)
    assert code == 2 and "contact.now" in out
    code, out = run(tmp_path, {**SCENARIO, "debtor": {"uf": "XX"}})
    assert code == 2 and "debtor.uf" in out
    code, out = run(tmp_path, {**SCENARIO, "surprise": 1})
    assert code == 2 and "surprise" in out
    code, out = run(tmp_path, {**SCENARIO, "account": {"tier_limit": 1000}})
    assert code == 2 and "account.tier_limit" in out


def test_broken_json_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    assert "não é JSON" in result.output


def test_tenant_overrides_in_file_and_option(tmp_path: Path) -> None:
    code, out = run(tmp_path, {**SCENARIO, "ruleset_overrides": {"version": "acme-1"}})
    assert code == 0 and json.loads(out)["ruleset_version"] == "br-2026.1+acme-1"
    overrides = tmp_path / "acme.yaml"
    overrides.write_text("version: acme-2\nfrequency:\n  max_per_wek: 1\n", encoding="utf-8")
    code, out = run(tmp_path, SCENARIO, "--ruleset", str(overrides))
    assert code == 2 and "frequency.max_per_wek" in out


def test_lint_and_ruleset_commands(tmp_path: Path) -> None:
    text = tmp_path / "msg.txt"
    text.write_text("ÚLTIMO AVISO!!! Seu nome será protestado hoje.", encoding="utf-8")
    result = runner.invoke(app, ["lint", str(text)])
    assert result.exit_code == 0
    assert {"CDC-02", "AGT-02"} <= {f["rule_id"] for f in json.loads(result.output)}
    shown = runner.invoke(app, ["ruleset"])
    assert shown.exit_code == 0 and json.loads(shown.output)["windows"]["RJ"]["rule_id"] == "TIME-RJ"
