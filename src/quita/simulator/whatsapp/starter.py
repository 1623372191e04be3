"""Starter templates the simulator knows at launch, so demos can send before creating any.

They read like neutral billing notices (the Utility category a creditor's reminders must stay in).
"""

from __future__ import annotations

from typing import Any

STARTER_TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "lembrete_vencimento",
        "language": "pt_BR",
        "category": "UTILITY",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Lembrete de pagamento"},
            {
                "type": "BODY",
                "text": "Olá, {{1}}. Sua fatura de {{2}} vence em {{3}}. Escolha abaixo como prefere pagar.",
            },
            {"type": "FOOTER", "text": "Responda SAIR para não receber mais mensagens."},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Pagar com Pix"},
                    {"type": "QUICK_REPLY", "text": "Negociar"},
                    {"type": "QUICK_REPLY", "text": "Não sou eu"},
                ],
            },
        ],
    },
    {
        "name": "boleto_disponivel",
        "language": "pt_BR",
        "category": "UTILITY",
        "parameter_format": "NAMED",
        "components": [
            {"type": "HEADER", "format": "DOCUMENT"},
            {
                "type": "BODY",
                "text": "{{nome}}, o boleto de {{valor}} está disponível. Vencimento: {{vencimento}}.",
            },
            {
                "type": "BUTTONS",
                "buttons": [{"type": "URL", "text": "Ver boleto", "url": "https://pagar.example/b/{{1}}"}],
            },
        ],
    },
]
