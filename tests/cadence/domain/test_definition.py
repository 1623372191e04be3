from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from quita.cadence.defaults import default_cadence, default_mapping
from quita.cadence.domain.definition import CadenceError, StepKind, parse_cadence


def _problems(data: Any) -> tuple[str, ...]:
    with pytest.raises(CadenceError) as info:
        parse_cadence(data)
    return info.value.problems


def test_default_cadence_is_valid_and_ordered() -> None:
    cadence = default_cadence()
    assert [s.key for s in cadence.steps] == ["D-5", "D0", "D+3", "D+10", "D+30"]
    assert cadence.steps[0].kind == StepKind.REMINDER and cadence.steps[-1].kind == StepKind.COLLECTION
    assert cadence.identity_check.message.template == "quita_confirmacao_identidade"
    # The identity check never carries the debt.
    assert not any("titulo." in p for p in cadence.identity_check.message.params)


def test_discount_variant_only_when_policy_grants_it() -> None:
    data = default_mapping()
    step = parse_cadence(data).steps[0]
    assert step.message_for(None).template == "quita_lembrete_vencimento"
    data["policy"] = {"early_payment_discount_pct": "5.00"}
    cadence = parse_cadence(data)
    assert cadence.early_payment_discount_pct == Decimal("5.00")
    assert (
        cadence.steps[0].message_for(cadence.early_payment_discount_pct).template == "quita_lembrete_desconto"
    )


def test_every_problem_is_reported_with_its_path() -> None:
    data = copy.deepcopy(default_mapping())
    data["steps"][1]["template"] = "Lembrete Hoje"
    data["steps"][2]["at"] = "amanhã"
    data["steps"][3]["params"] = ["{titulo.valorr}"]
    data["match"] = {"amount": {"min": 10.5}, "uf": ["XX"], "status": ["aberto"]}
    data["colour"] = "blue"
    problems = _problems(data)
    joined = "\n".join(problems)
    assert "steps[1].template: obrigatório" in joined
    assert "steps[2].at: use D-5, D0, D+3" in joined
    assert "steps[3].params[0]: variável desconhecida {titulo.valorr}" in joined
    assert "match.amount.min: use texto" in joined
    assert "match.uf: UF desconhecida 'XX'" in joined
    assert "match.status: situação desconhecida 'aberto'" in joined
    assert "colour: chave desconhecida" in joined


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.pop("steps"), "steps: obrigatório"),
        (lambda d: d.pop("identity_check"), "identity_check: obrigatório"),
        (lambda d: d["steps"].append(dict(d["steps"][0])), "passo D-5 repetido"),
        (lambda d: d["identity_check"].update(params=["{titulo.valor}"]), "não revela a dívida"),
        (lambda d: d["steps"][1].update(with_discount={"template": "x"}), "só antes do vencimento"),
        (lambda d: d["steps"][1].update(params=["{desconto.percentual}"]), "só em with_discount"),
        (lambda d: d.update(stop_on=["paid", "bored"]), "condição desconhecida 'bored'"),
        (lambda d: d["steps"][0].update(at="D-90"), "fora do intervalo"),
        (lambda d: d.update(name="Régua Boa"), "name: use minúsculas"),
        (lambda d: d["steps"][0].update(params=["{devedor.nome"]), "chaves soltas"),
    ],
)
def test_rejections(mutate: Any, expected: str) -> None:
    data = copy.deepcopy(default_mapping())
    mutate(data)
    assert any(expected in p for p in _problems(data)), _problems(data)


def test_not_a_mapping() -> None:
    assert _problems(["x"]) == ("(raiz): esperado um objeto com name, steps, identity_check …",)
