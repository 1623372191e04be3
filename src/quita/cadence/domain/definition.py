"""A cadence (régua de cobrança) as data: which debts it covers, which steps it takes, when it stops.

Cadences come from YAML files and from the API, so every field is checked here and every problem is
reported with its path (``steps[2].template: obrigatório``) instead of failing later in the planner.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from quita.cadence.domain.params import PlaceholderError, check_param

MIN_OFFSET = -60
MAX_OFFSET = 365
_STEP_KEY = re.compile(r"^D([+-]\d{1,3}|0)$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_TEMPLATE = re.compile(r"^[a-z0-9_]{1,512}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
_UFS = frozenset(
    [
        "AC",
        "AL",
        "AP",
        "AM",
        "BA",
        "CE",
        "DF",
        "ES",
        "GO",
        "MA",
        "MT",
        "MS",
        "MG",
        "PA",
        "PB",
        "PR",
        "PE",
        "PI",
        "RJ",
        "RN",
        "RS",
        "RO",
        "RR",
        "SC",
        "SP",
        "SE",
        "TO",
    ]
)


class StopCondition(StrEnum):
    PAID = "paid"
    IN_AGREEMENT = "in_agreement"
    OPTED_OUT = "opted_out"
    DISPUTED = "disputed"
    DECEASED = "deceased"
    PRESCRIBED = "prescribed"
    WRONG_NUMBER = "wrong_number"


class StepKind(StrEnum):
    """Mirrors the compliance gate's contact kinds a cadence may use."""

    REMINDER = "reminder"
    COLLECTION = "collection"


ALL_STOPS = tuple(StopCondition)
DEBT_STATUSES = ("open", "in_agreement", "paid", "written_off", "disputed", "prescribed")


class CadenceError(ValueError):
    """Every problem found in a cadence definition, one ``path: reason`` per line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class MessageSpec:
    template: str
    language: str
    params: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Step:
    offset: int
    """Days relative to the due date: -5 is five days before, 0 the due date, 3 three days after."""
    channel: str
    kind: StepKind
    message: MessageSpec
    discloses_amount: bool
    discount_message: MessageSpec | None = None
    """Used instead of ``message`` when the cadence's policy grants an early-payment discount."""

    def message_for(self, discount_pct: Decimal | None) -> MessageSpec:
        return self.discount_message if (discount_pct and self.discount_message) else self.message

    @property
    def key(self) -> str:
        return step_key(self.offset)


@dataclass(frozen=True, slots=True)
class Match:
    statuses: frozenset[str] = frozenset({"open"})
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    days_overdue_min: int | None = None
    days_overdue_max: int | None = None
    tags_any: frozenset[str] = frozenset()
    tags_all: frozenset[str] = frozenset()
    ufs: frozenset[str] = frozenset()
    creditor_cnpjs: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    message: MessageSpec
    max_attempts: int = 3


@dataclass(frozen=True, slots=True)
class Cadence:
    name: str
    priority: int
    steps: tuple[Step, ...]
    identity_check: IdentityCheck
    match: Match = Match()
    stop_on: frozenset[StopCondition] = frozenset(ALL_STOPS)
    grace_days: int = 2
    """A step missed on its day (held back by the gate) may still go out this many days later."""
    early_payment_discount_pct: Decimal | None = None
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def offset_range(self) -> tuple[int, int]:
        """Days-overdue values for which some step can be active (for the planner's SQL prefilter)."""
        return self.steps[0].offset, self.steps[-1].offset + self.grace_days

    def active_days(self) -> frozenset[int]:
        """Days-overdue values on which some step is active: the planner's SQL prefilter, so a portfolio
        whose due dates spread over years is not read row by row only to find most rows have no step today."""
        days: set[int] = set()
        for i, step in enumerate(self.steps):
            last = step.offset + self.grace_days
            if i + 1 < len(self.steps):
                last = min(last, self.steps[i + 1].offset - 1)
            days.update(range(step.offset, last + 1))
        return frozenset(days)


def step_key(offset: int) -> str:
    return "D0" if offset == 0 else f"D{offset:+d}"


def parse_step_key(text: str) -> int:
    found = _STEP_KEY.match(text.strip().upper())
    if not found:
        raise ValueError("use D-5, D0, D+3 …")
    return int(found.group(1))


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, reason: str) -> None:
        self.problems.append(f"{path}: {reason}")

    def keys(
        self,
        data: Mapping[str, Any],
        path: str,
        allowed: set[str],
        required: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        for key in data:
            if key not in allowed:
                self.fail(f"{path}{key}", "chave desconhecida")
        for key in sorted(required - set(data)):
            self.fail(f"{path}{key}", "obrigatório")

    def mapping(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, "esperado um objeto")
            return None
        return value

    def str_list(self, value: Any, path: str) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(path, "esperada uma lista de textos")
            return []
        return list(value)

    def integer(self, value: Any, path: str, lo: int, hi: int) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, "esperado um número inteiro")
            return None
        if not lo <= value <= hi:
            self.fail(path, f"deve estar entre {lo} e {hi}")
            return None
        return value

    def money(self, value: Any, path: str) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, float):
            self.fail(path, "use texto ('1500.00') ou inteiro: valores com vírgula flutuante perdem centavos")
            return None
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            self.fail(path, f"valor inválido {value!r}")
            return None
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
            self.fail(path, "deve ser um valor não negativo com no máximo 2 casas")
            return None
        return amount

    def boolean(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(path, "esperado true ou false")
            return default
        return value

    def message(self, data: Mapping[str, Any], path: str) -> MessageSpec | None:
        template = data.get("template")
        language = data.get("language", "pt_BR")
        ok = True
        if not isinstance(template, str) or not _TEMPLATE.match(template):
            self.fail(f"{path}template", "obrigatório: nome do modelo aprovado (minúsculas, dígitos e _)")
            ok = False
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            self.fail(f"{path}language", "idioma inválido (ex.: pt_BR)")
            ok = False
        params = self.str_list(data.get("params"), f"{path}params")
        for index, param in enumerate(params):
            try:
                check_param(param)
            except PlaceholderError as exc:
                self.fail(f"{path}params[{index}]", str(exc))
                ok = False
        if not ok:
            return None
        return MessageSpec(str(template), str(language), tuple(params))


_TOP = {
    "name",
    "description",
    "priority",
    "match",
    "stop_on",
    "grace_days",
    "identity_check",
    "steps",
    "policy",
}
_MATCH = {"status", "amount", "days_overdue", "tags_any", "tags_all", "uf", "creditor_cnpj"}
_STEP = {"at", "channel", "kind", "template", "language", "params", "discloses_amount", "with_discount"}
_IDENTITY = {"template", "language", "params", "max_attempts"}


def _parse_match(c: _Checker, raw: Any) -> Match:
    data = c.mapping(raw, "match")
    if not data:
        return Match()
    c.keys(data, "match.", _MATCH)
    statuses = c.str_list(data.get("status", ["open"]), "match.status")
    for s in statuses:
        if s not in DEBT_STATUSES:
            c.fail("match.status", f"situação desconhecida {s!r} (use {', '.join(DEBT_STATUSES)})")
    amount = c.mapping(data.get("amount"), "match.amount") or {}
    c.keys(amount, "match.amount.", {"min", "max"})
    lo, hi = c.money(amount.get("min"), "match.amount.min"), c.money(amount.get("max"), "match.amount.max")
    if lo is not None and hi is not None and lo > hi:
        c.fail("match.amount", "min maior que max")
    days = c.mapping(data.get("days_overdue"), "match.days_overdue") or {}
    c.keys(days, "match.days_overdue.", {"min", "max"})
    dmin = c.integer(days.get("min"), "match.days_overdue.min", -MAX_OFFSET, 100_000)
    dmax = c.integer(days.get("max"), "match.days_overdue.max", -MAX_OFFSET, 100_000)
    if dmin is not None and dmax is not None and dmin > dmax:
        c.fail("match.days_overdue", "min maior que max")
    ufs = [u.upper() for u in c.str_list(data.get("uf"), "match.uf")]
    for uf in ufs:
        if uf not in _UFS:
            c.fail("match.uf", f"UF desconhecida {uf!r}")
    cnpjs = [
        re.sub(r"\D", "", x) if x.replace(".", "").replace("/", "").replace("-", "").isdigit() else x.upper()
        for x in c.str_list(data.get("creditor_cnpj"), "match.creditor_cnpj")
    ]
    for cnpj in cnpjs:
        if len(cnpj) != 14:
            c.fail("match.creditor_cnpj", f"CNPJ deve ter 14 caracteres: {cnpj!r}")
    return Match(
        statuses=frozenset(statuses),
        amount_min=lo,
        amount_max=hi,
        days_overdue_min=dmin,
        days_overdue_max=dmax,
        tags_any=frozenset(c.str_list(data.get("tags_any"), "match.tags_any")),
        tags_all=frozenset(c.str_list(data.get("tags_all"), "match.tags_all")),
        ufs=frozenset(ufs),
        creditor_cnpjs=frozenset(cnpjs),
    )


def _parse_steps(c: _Checker, raw: Any) -> list[Step]:
    if not isinstance(raw, list) or not raw:
        c.fail("steps", "obrigatório: lista com ao menos um passo")
        return []
    steps: list[Step] = []
    seen: set[int] = set()
    for index, item in enumerate(raw):
        path = f"steps[{index}]."
        data = c.mapping(item, f"steps[{index}]")
        if data is None:
            continue
        c.keys(data, path, _STEP, {"at", "template"})
        at = data.get("at")
        offset: int | None = None
        if isinstance(at, str):
            try:
                offset = parse_step_key(at)
            except ValueError as exc:
                c.fail(f"{path}at", str(exc))
        elif at is not None:
            c.fail(f"{path}at", "use D-5, D0, D+3 …")
        if offset is not None and not MIN_OFFSET <= offset <= MAX_OFFSET:
            c.fail(f"{path}at", f"fora do intervalo D{MIN_OFFSET}…D+{MAX_OFFSET}")
            offset = None
        if offset is not None and offset in seen:
            c.fail(f"{path}at", f"passo {step_key(offset)} repetido")
        channel = data.get("channel", "whatsapp")
        if channel != "whatsapp":
            c.fail(f"{path}channel", "só o canal whatsapp é suportado por enquanto")
        kind_raw = data.get("kind")
        kind: StepKind | None = None
        if kind_raw is None:
            kind = StepKind.REMINDER if (offset or 0) <= 0 else StepKind.COLLECTION
        elif kind_raw in StepKind._value2member_map_:
            kind = StepKind(kind_raw)
        else:
            c.fail(f"{path}kind", "use reminder ou collection")
        message = c.message(data, path)
        discloses = c.boolean(data.get("discloses_amount"), f"{path}discloses_amount", True)
        if message is not None and any("desconto." in p for p in message.params):
            c.fail(
                f"{path}params", "variáveis desconto.* só em with_discount (usado quando a política concede)"
            )
        discount: MessageSpec | None = None
        if data.get("with_discount") is not None:
            raw = c.mapping(data.get("with_discount"), f"{path}with_discount")
            if raw is not None:
                c.keys(raw, f"{path}with_discount.", {"template", "language", "params"}, {"template"})
                discount = c.message(raw, f"{path}with_discount.")
            if offset is not None and offset >= 0:
                c.fail(f"{path}with_discount", "desconto de antecipação só antes do vencimento")
        if offset is None or kind is None or message is None:
            continue
        seen.add(offset)
        steps.append(Step(offset, "whatsapp", kind, message, discloses, discount))
    steps.sort(key=lambda s: s.offset)
    return steps


def parse_cadence(data: Any) -> Cadence:
    """Validate a cadence mapping (parsed YAML/JSON); raise :class:`CadenceError` listing every problem."""
    c = _Checker()
    if not isinstance(data, Mapping):
        raise CadenceError(["(raiz): esperado um objeto com name, steps, identity_check …"])
    c.keys(data, "", _TOP, {"name", "steps", "identity_check"})
    name = data.get("name")
    if "name" in data and (not isinstance(name, str) or not _NAME.match(name)):
        c.fail("name", "use minúsculas, dígitos, - ou _ (até 63)")
    priority = c.integer(data.get("priority", 100), "priority", 0, 1_000_000)
    grace = c.integer(data.get("grace_days", 2), "grace_days", 0, 30)
    description = data.get("description", "")
    if not isinstance(description, str):
        c.fail("description", "esperado um texto")
        description = ""
    match = _parse_match(c, data.get("match"))
    stops: set[StopCondition] = set()
    for s in c.str_list(data.get("stop_on", list(ALL_STOPS)), "stop_on"):
        if s in StopCondition._value2member_map_:
            stops.add(StopCondition(s))
        else:
            c.fail("stop_on", f"condição desconhecida {s!r} (use {', '.join(ALL_STOPS)})")
    policy = c.mapping(data.get("policy"), "policy") or {}
    c.keys(policy, "policy.", {"early_payment_discount_pct"})
    discount_pct = c.money(policy.get("early_payment_discount_pct"), "policy.early_payment_discount_pct")
    if discount_pct is not None and discount_pct > 50:
        c.fail("policy.early_payment_discount_pct", "acima de 50%: confira a política")
    identity_raw = c.mapping(data.get("identity_check"), "identity_check")
    identity: IdentityCheck | None = None
    if identity_raw:
        c.keys(identity_raw, "identity_check.", _IDENTITY, {"template"})
        message = c.message(identity_raw, "identity_check.")
        attempts = c.integer(identity_raw.get("max_attempts", 3), "identity_check.max_attempts", 1, 10)
        for param in message.params if message else ():
            if any(token in param for token in ("titulo.", "desconto.")):
                c.fail("identity_check.params", f"{param!r}: a verificação de identidade não revela a dívida")
        if message is not None and attempts is not None:
            identity = IdentityCheck(message, attempts)
    steps = _parse_steps(c, data.get("steps"))
    if c.problems or identity is None or priority is None or grace is None or not steps:
        raise CadenceError(c.problems or ["(raiz): definição incompleta"])
    return Cadence(
        name=str(name),
        priority=priority,
        steps=tuple(steps),
        identity_check=identity,
        match=match,
        stop_on=frozenset(stops),
        grace_days=grace,
        early_payment_discount_pct=discount_pct,
        description=description,
    )
