"""The rule set: every tunable number of the gate, as validated, versioned, hashable data.

Defaults live in ``quita/compliance/rulesets/default.yaml``; a tenant may override any key. Each decision
records the rule set's version and content hash so that an audit can tell exactly which rules let a message
go out (reference §11). Building a RuleSet from a mapping is pure; reading files is the caller's business.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from itertools import pairwise
from typing import Any

UFS = frozenset(
    [
        "AC",
        "AL",
        "AM",
        "AP",
        "BA",
        "CE",
        "DF",
        "ES",
        "GO",
        "MA",
        "MG",
        "MS",
        "MT",
        "PA",
        "PB",
        "PE",
        "PI",
        "PR",
        "RJ",
        "RN",
        "RO",
        "RR",
        "RS",
        "SC",
        "SE",
        "SP",
        "TO",
    ]
)
OPTIONAL_DAYS = frozenset(
    {
        "carnival_mon",
        "carnival_tue",
        "ash_wed_until_14h",
        "corpus_christi",
        "oct28",
        "dec24_after_14h",
        "dec31_after_14h",
    }
)
LINT_CATEGORIES = frozenset(
    {
        "threat",
        "ridicule",
        "exposure",
        "false_urgency",
        "shouting",
        "slang",
        "emoji",
        "creditor_identification",
    }
)
TIER_LIMITS = (250, 2000, 10000, 100000)
_DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class RuleSetError(ValueError):
    """A rule set (default or tenant override) that cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """Allowed proactive-contact intervals per weekday, in local minutes [start, end)."""

    key: str
    rule_id: str
    legal_basis: str
    days: tuple[tuple[tuple[int, int], ...], ...]  # index 0 = Monday
    label_pt: str

    def intervals(self, weekday: int) -> tuple[tuple[int, int], ...]:
        return self.days[weekday]


@dataclass(frozen=True, slots=True)
class CalendarRules:
    blocked_optional: frozenset[str]


@dataclass(frozen=True, slots=True)
class FrequencyRules:
    max_per_day: int
    min_gap_hours: float
    max_per_week: int
    paid_pause_business_days: int
    stop_after_unanswered: int
    unanswered_window_days: int


@dataclass(frozen=True, slots=True)
class IdentityRules:
    enriched_verify_only: bool
    third_party_contact: bool


@dataclass(frozen=True, slots=True)
class PrescriptionRules:
    years_default: int
    block_active_collection: bool
    bank_block_days_overdue: int | None


@dataclass(frozen=True, slots=True)
class WhatsAppRules:
    service_window_hours: float
    allowed_template_categories: frozenset[str]
    require_opt_in: bool


@dataclass(frozen=True, slots=True)
class LinterRules:
    max_emojis: int
    max_exclamations: int
    blocking_categories: frozenset[str]


@dataclass(frozen=True, slots=True)
class RuleSet:
    version: str
    content_hash: str
    windows: Mapping[str, WeeklyWindow]
    calendar: CalendarRules
    frequency: FrequencyRules
    reply_exemption_hours: float
    identity: IdentityRules
    prescription: PrescriptionRules
    whatsapp: WhatsAppRules
    linter: LinterRules
    horizon_days: int

    def window_for(self, uf: str | None) -> WeeklyWindow:
        if uf is not None and uf in self.windows:
            return self.windows[uf]
        return self.windows["default"]


# --------------------------------------------------------------------------------------------- parsing


def _get(data: Mapping[str, Any], key: str, path: str) -> Any:
    if not isinstance(data, Mapping):
        raise RuleSetError(f"{path}: esperado um objeto (mapa)")
    if key not in data:
        raise RuleSetError(f"{path}.{key}: campo obrigatório ausente")
    return data[key]


def _int(data: Mapping[str, Any], key: str, path: str, minimum: int = 0) -> int:
    value = _get(data, key, path)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RuleSetError(f"{path}.{key}: esperado inteiro >= {minimum}, veio {value!r}")
    return value


def _num(data: Mapping[str, Any], key: str, path: str) -> float:
    value = _get(data, key, path)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise RuleSetError(f"{path}.{key}: esperado número >= 0, veio {value!r}")
    return float(value)


def _bool(data: Mapping[str, Any], key: str, path: str) -> bool:
    value = _get(data, key, path)
    if not isinstance(value, bool):
        raise RuleSetError(f"{path}.{key}: esperado true/false, veio {value!r}")
    return value


def _str(data: Mapping[str, Any], key: str, path: str) -> str:
    value = _get(data, key, path)
    if not isinstance(value, str) or not value.strip():
        raise RuleSetError(f"{path}.{key}: esperado texto não vazio, veio {value!r}")
    return value.strip()


def _str_set(data: Mapping[str, Any], key: str, path: str, allowed: frozenset[str]) -> frozenset[str]:
    value = _get(data, key, path)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleSetError(f"{path}.{key}: esperado lista de textos, veio {value!r}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise RuleSetError(f"{path}.{key}: valores desconhecidos {unknown}; permitidos: {sorted(allowed)}")
    return frozenset(value)


def _parse_ranges(raw: Any, path: str) -> tuple[tuple[int, int], ...]:
    if raw == "closed" or raw is None:
        return ()
    if not isinstance(raw, str):
        raise RuleSetError(f"{path}: esperado 'HH:MM-HH:MM' ou 'closed', veio {raw!r}")
    ranges: list[tuple[int, int]] = []
    for part in raw.split(","):
        match = _RANGE.match(part.strip())
        if not match:
            raise RuleSetError(f"{path}: intervalo inválido {part.strip()!r} (use 'HH:MM-HH:MM')")
        start = int(match[1]) * 60 + int(match[2])
        end = int(match[3]) * 60 + int(match[4])
        if end > 24 * 60 or end <= start:
            raise RuleSetError(f"{path}: intervalo {part.strip()!r} termina antes de começar")
        ranges.append((start, end))
    ranges.sort()
    for (_, end_a), (start_b, _) in pairwise(ranges):
        if start_b < end_a:
            raise RuleSetError(f"{path}: intervalos sobrepostos em {raw!r}")
    return tuple(ranges)


def _fmt_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}" if minutes % 60 else f"{minutes // 60:02d}h"


def _label(days: tuple[tuple[tuple[int, int], ...], ...]) -> str:
    names = ("seg", "ter", "qua", "qui", "sex", "sáb", "dom")
    parts: list[str] = []
    i = 0
    while i < 7:
        j = i
        while j + 1 < 7 and days[j + 1] == days[i]:
            j += 1
        span = names[i] if i == j else f"{names[i]}–{names[j]}"
        text = (
            "fechado"
            if not days[i]
            else ", ".join(f"{_fmt_minutes(s)}–{_fmt_minutes(e)}" for s, e in days[i])
        )
        parts.append(f"{span} {text}")
        i = j + 1
    return "; ".join(parts)


def _parse_window(key: str, raw: Any) -> WeeklyWindow:
    path = f"windows.{key}"
    if not isinstance(raw, Mapping):
        raise RuleSetError(f"{path}: esperado um objeto")
    known = {"rule_id", "legal_basis", "mon_fri", "sat", "sun", *_DAY_KEYS}
    extra = sorted(set(raw) - known)
    if extra:
        raise RuleSetError(f"{path}: campos desconhecidos {extra}")
    base = _parse_ranges(raw.get("mon_fri", "closed"), f"{path}.mon_fri")
    per_day = [base] * 5 + [
        _parse_ranges(raw.get("sat", "closed"), f"{path}.sat"),
        _parse_ranges(raw.get("sun", "closed"), f"{path}.sun"),
    ]
    for index, day_key in enumerate(_DAY_KEYS):
        if day_key in raw:
            per_day[index] = _parse_ranges(raw[day_key], f"{path}.{day_key}")
    days = tuple(per_day)
    return WeeklyWindow(
        key=key,
        rule_id=_str(raw, "rule_id", path),
        legal_basis=_str(raw, "legal_basis", path),
        days=days,
        label_pt=_label(days),
    )


def content_hash(data: Mapping[str, Any]) -> str:
    """Stable hash of a rule-set mapping: same content, same hash, whatever the key order or file layout."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def ruleset_from_mapping(data: Mapping[str, Any]) -> RuleSet:
    """Validate a complete rule-set mapping (defaults already merged) and build the RuleSet."""
    if not isinstance(data, Mapping):
        raise RuleSetError("raiz: esperado um objeto (mapa)")
    windows_raw = _get(data, "windows", "raiz")
    if not isinstance(windows_raw, Mapping) or "default" not in windows_raw:
        raise RuleSetError("windows: precisa de uma entrada 'default'")
    windows: dict[str, WeeklyWindow] = {}
    for key, raw in windows_raw.items():
        if key != "default" and key not in UFS:
            raise RuleSetError(f"windows.{key}: UF desconhecida")
        windows[key] = _parse_window(key, raw)

    cal = _get(data, "calendar", "raiz")
    freq = _get(data, "frequency", "raiz")
    ident = _get(data, "identity", "raiz")
    presc = _get(data, "prescription", "raiz")
    wa = _get(data, "whatsapp", "raiz")
    lint = _get(data, "linter", "raiz")
    reply = _get(data, "reply", "raiz")
    bank_days = _get(presc, "bank_block_days_overdue", "prescription")
    if bank_days is not None:
        bank_days = _int(presc, "bank_block_days_overdue", "prescription", minimum=1)
    return RuleSet(
        version=_str(data, "version", "raiz"),
        content_hash=content_hash(data),
        windows=windows,
        calendar=CalendarRules(
            blocked_optional=_str_set(cal, "block_optional", "calendar", OPTIONAL_DAYS),
        ),
        frequency=FrequencyRules(
            max_per_day=_int(freq, "max_per_day", "frequency", minimum=1),
            min_gap_hours=_num(freq, "min_gap_hours", "frequency"),
            max_per_week=_int(freq, "max_per_week", "frequency", minimum=1),
            paid_pause_business_days=_int(freq, "paid_pause_business_days", "frequency"),
            stop_after_unanswered=_int(freq, "stop_after_unanswered", "frequency", minimum=1),
            unanswered_window_days=_int(freq, "unanswered_window_days", "frequency", minimum=1),
        ),
        reply_exemption_hours=_num(reply, "exemption_hours", "reply"),
        identity=IdentityRules(
            enriched_verify_only=_bool(ident, "enriched_verify_only", "identity"),
            third_party_contact=_bool(ident, "third_party_contact", "identity"),
        ),
        prescription=PrescriptionRules(
            years_default=_int(presc, "years_default", "prescription", minimum=1),
            block_active_collection=_bool(presc, "block_active_collection", "prescription"),
            bank_block_days_overdue=bank_days,
        ),
        whatsapp=WhatsAppRules(
            service_window_hours=_num(wa, "service_window_hours", "whatsapp"),
            allowed_template_categories=_str_set(
                wa,
                "allowed_template_categories",
                "whatsapp",
                frozenset({"UTILITY", "MARKETING", "AUTHENTICATION"}),
            ),
            require_opt_in=_bool(wa, "require_opt_in", "whatsapp"),
        ),
        linter=LinterRules(
            max_emojis=_int(lint, "max_emojis", "linter"),
            max_exclamations=_int(lint, "max_exclamations", "linter"),
            blocking_categories=_str_set(lint, "blocking_categories", "linter", LINT_CATEGORIES),
        ),
        horizon_days=_int(data, "horizon_days", "raiz", minimum=1),
    )


def merge_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any], path: str = "") -> dict[str, Any]:
    """Deep-merge a tenant's overrides onto the defaults.

    Unknown keys are rejected (a typo must not silently leave a default in force); the only open-ended map
    is ``windows``, where a tenant may add a UF. Lists and scalars replace the default wholesale.
    """
    merged: dict[str, Any] = dict(base)
    for key, value in overrides.items():
        where = f"{path}.{key}" if path else key
        if key not in base:
            if path == "windows":
                merged[key] = value
                continue
            raise RuleSetError(f"{where}: chave desconhecida na sobreposição do tenant")
        if isinstance(base[key], Mapping) and isinstance(value, Mapping):
            merged[key] = merge_overrides(base[key], value, where)
        elif isinstance(base[key], Mapping) and base[key] and value is not None:
            raise RuleSetError(f"{where}: esperado um objeto")
        else:
            merged[key] = value
    return merged


def tenant_ruleset(defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> RuleSet:
    """Defaults plus a tenant's overrides. The tenant names its own version; it is appended to the base's."""
    if not overrides:
        return ruleset_from_mapping(defaults)
    tenant_version = overrides.get("version")
    if not isinstance(tenant_version, str) or not tenant_version.strip():
        raise RuleSetError("version: a sobreposição do tenant precisa de uma versão própria (texto)")
    merged = merge_overrides(defaults, {k: v for k, v in overrides.items() if k != "version"})
    merged["version"] = f"{defaults.get('version')}+{tenant_version.strip()}"
    return ruleset_from_mapping(merged)


def window_start_time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60) if minutes < 24 * 60 else time(23, 59, 59)
