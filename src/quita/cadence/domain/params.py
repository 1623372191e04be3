"""Template parameters of a cadence step: literal text with ``{placeholders}`` from a fixed vocabulary.

A fixed vocabulary (not a template language) keeps a cadence from reaching into arbitrary data, and lets
the planner tell from the definition alone whether a message shows an amount or names the creditor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from quita.br.documents import format_cnpj
from quita.br.money import format_brl

_PLACEHOLDER = re.compile(r"\{([a-z_]+\.[a-z_]+)\}")
_BRACES = re.compile(r"[{}]")

VOCABULARY: dict[str, str] = {
    "devedor.nome": "nome completo do devedor",
    "devedor.primeiro_nome": "primeiro nome do devedor",
    "credor.nome": "razão social do credor",
    "credor.nome_fantasia": "nome fantasia (ou razão social)",
    "credor.cnpj": "CNPJ do credor, formatado",
    "credor.endereco": "endereço do credor",
    "titulo.valor": "valor do título (R$)",
    "titulo.vencimento": "vencimento (dd/mm/aaaa)",
    "titulo.mes_referencia": "mês/ano do vencimento (ex.: março/2026)",
    "titulo.contrato": "número do contrato",
    "titulo.parcela": "número da parcela",
    "titulo.dias_atraso": "dias em atraso",
    "desconto.percentual": "desconto de antecipação (%)",
    "desconto.valor_final": "valor com o desconto de antecipação (R$)",
}
DISCLOSING = frozenset(k for k in VOCABULARY if k.startswith(("titulo.", "desconto.")))
CREDITOR_ID = frozenset({"credor.nome", "credor.cnpj", "credor.endereco"})


MONTHS_PT = (
    "janeiro",
    "fevereiro",
    "março",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
)


class PlaceholderError(ValueError):
    pass


def placeholders(param: str) -> list[str]:
    return _PLACEHOLDER.findall(param)


def check_param(param: str) -> None:
    for name in placeholders(param):
        if name not in VOCABULARY:
            raise PlaceholderError(f"variável desconhecida {{{name}}} (use: {', '.join(sorted(VOCABULARY))})")
    if _BRACES.search(_PLACEHOLDER.sub("", param)):
        raise PlaceholderError("chaves soltas: escreva variáveis como {devedor.primeiro_nome}")
    if not param.strip():
        raise PlaceholderError("parâmetro vazio")


def names_creditor(params: tuple[str, ...]) -> bool:
    """CDC 42-A: name, CNPJ and address all present among the parameters."""
    used = {name for p in params for name in placeholders(p)}
    return used >= CREDITOR_ID


def shows_debt(params: tuple[str, ...]) -> bool:
    return any(name in DISCLOSING for p in params for name in placeholders(p))


@dataclass(frozen=True, slots=True)
class ParamContext:
    debtor_name: str
    creditor_legal_name: str
    creditor_trade_name: str | None
    creditor_cnpj: str
    creditor_address: str
    amount: Decimal
    due_date: date
    today: date
    contract: str | None = None
    installment: int | None = None
    discount_pct: Decimal | None = None


def _values(ctx: ParamContext) -> Mapping[str, str]:
    first = ctx.debtor_name.split()[0].capitalize() if ctx.debtor_name.strip() else ctx.debtor_name
    discount = ctx.discount_pct or Decimal(0)
    final = (ctx.amount * (Decimal(100) - discount) / Decimal(100)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return {
        "devedor.nome": ctx.debtor_name,
        "devedor.primeiro_nome": first,
        "credor.nome": ctx.creditor_legal_name,
        "credor.nome_fantasia": ctx.creditor_trade_name or ctx.creditor_legal_name,
        "credor.cnpj": format_cnpj(ctx.creditor_cnpj),
        "credor.endereco": ctx.creditor_address,
        "titulo.valor": format_brl(ctx.amount),
        "titulo.vencimento": ctx.due_date.strftime("%d/%m/%Y"),
        "titulo.mes_referencia": f"{MONTHS_PT[ctx.due_date.month - 1]}/{ctx.due_date.year}",
        "titulo.contrato": ctx.contract or "-",
        "titulo.parcela": str(ctx.installment) if ctx.installment is not None else "-",
        "titulo.dias_atraso": str(max(0, (ctx.today - ctx.due_date).days)),
        "desconto.percentual": f"{discount.normalize():f}".replace(".", ",") + "%",
        "desconto.valor_final": format_brl(final),
    }


def render_params(params: tuple[str, ...], ctx: ParamContext) -> list[str]:
    values = _values(ctx)
    return [_PLACEHOLDER.sub(lambda m: values[m.group(1)], p) for p in params]
