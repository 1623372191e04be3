from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from quita.cadence.domain.params import (
    ParamContext,
    PlaceholderError,
    check_param,
    names_creditor,
    render_params,
    shows_debt,
)

CTX = ParamContext(
    debtor_name="MARIA DA SILVA",
    creditor_legal_name="Loja S.A.",
    creditor_trade_name=None,
    creditor_cnpj="11222333000181",
    creditor_address="Rua Um, 1, São Paulo/SP",
    amount=Decimal("1234.50"),
    due_date=dt.date(2026, 3, 10),
    today=dt.date(2026, 3, 15),
    discount_pct=Decimal("5.00"),
)


def test_render() -> None:
    out = render_params(
        (
            "Olá, {devedor.primeiro_nome}!",
            "{titulo.valor}",
            "{titulo.vencimento}",
            "{credor.cnpj}",
            "{desconto.valor_final}",
            "{titulo.dias_atraso} dias",
            "{credor.nome_fantasia}",
        ),
        CTX,
    )
    assert out == [
        "Olá, Maria!",
        "R$ 1.234,50",
        "10/03/2026",
        "11.222.333/0001-81",
        "R$ 1.172,78",
        "5 dias",
        "Loja S.A.",
    ]


def test_disclosure_and_creditor_identification_are_read_from_the_definition() -> None:
    assert shows_debt(("{titulo.valor}",)) and not shows_debt(("{devedor.nome}", "{credor.nome}"))
    assert names_creditor(("{credor.nome}", "{credor.cnpj} {credor.endereco}"))
    assert not names_creditor(("{credor.nome}", "{credor.cnpj}"))


@pytest.mark.parametrize("bad", ["{devedor.cpf}", "{titulo.valor", "  ", "}{"])
def test_bad_params(bad: str) -> None:
    with pytest.raises(PlaceholderError):
        check_param(bad)
