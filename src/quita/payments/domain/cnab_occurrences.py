"""Meaning of CNAB return occurrence codes (pt-BR) and which of them settle a title, per bank and layout.

The same two digits mean different things per bank (Itaú 17 = "alteração rejeitada", FEBRABAN 240 17 =
"liquidação após baixa"), and only a settlement may mark a debt paid: entries, write-offs and fee debits
must never trigger a "thank you for paying" message. So every table names its settlement codes explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OccurrenceTable:
    name: str
    meanings: dict[str, str]
    settlement: frozenset[str]

    def meaning(self, code: str) -> str:
        return self.meanings.get(code, f"ocorrência {code} sem descrição na tabela {self.name}")


FEBRABAN_240 = OccurrenceTable(
    "FEBRABAN 240 (C044)",
    {
        "02": "Entrada confirmada",
        "03": "Entrada rejeitada",
        "04": "Transferência de carteira/entrada",
        "05": "Transferência de carteira/baixa",
        "06": "Liquidação",
        "07": "Confirmação do recebimento da instrução de desconto",
        "08": "Confirmação do recebimento do cancelamento do desconto",
        "09": "Baixa",
        "11": "Títulos em carteira (em ser)",
        "12": "Confirmação de recebimento de instrução de abatimento",
        "13": "Confirmação de recebimento de instrução de cancelamento de abatimento",
        "14": "Confirmação de recebimento de instrução de alteração de vencimento",
        "15": "Franco de pagamento",
        "17": "Liquidação após baixa ou liquidação de título não registrado",
        "19": "Confirmação de recebimento de instrução de protesto",
        "20": "Confirmação de recebimento de instrução de sustação/cancelamento de protesto",
        "23": "Remessa a cartório (aponte em cartório)",
        "24": "Retirada de cartório e manutenção em carteira",
        "25": "Protestado e baixado (baixa por ter sido protestado)",
        "26": "Instrução rejeitada",
        "27": "Confirmação do pedido de alteração de outros dados",
        "28": "Débito de tarifas/custas",
        "29": "Ocorrências do pagador",
        "30": "Alteração de dados rejeitada",
        "44": "Título pago com cheque devolvido",
        "46": "Título pago com cheque, aguardando compensação",
    },
    frozenset({"06", "17"}),
)

BRADESCO_400 = OccurrenceTable(
    "Bradesco 400",
    {
        "02": "Entrada confirmada",
        "03": "Entrada rejeitada",
        "06": "Liquidação normal",
        "09": "Baixado automaticamente via arquivo",
        "10": "Baixado conforme instruções da agência",
        "11": "Em ser",
        "12": "Abatimento concedido",
        "13": "Abatimento cancelado",
        "14": "Vencimento alterado",
        "15": "Liquidação em cartório",
        "16": "Título pago em cheque (vinculado, aguardando compensação)",
        "17": "Liquidação após baixa ou título não registrado",
        "18": "Acerto de depositária",
        "19": "Confirmação de recebimento de instrução de protesto",
        "20": "Confirmação de recebimento de instrução de sustação de protesto",
        "22": "Título com pagamento cancelado",
        "23": "Entrada do título em cartório",
        "24": "Entrada rejeitada por CEP irregular",
        "27": "Baixa rejeitada",
        "28": "Débito de tarifas/custas",
        "30": "Alteração de outros dados rejeitada",
        "32": "Instrução rejeitada",
        "33": "Confirmação de pedido de alteração de outros dados",
        "34": "Retirado de cartório e manutenção em carteira",
    },
    frozenset({"06", "15", "17"}),
)

ITAU_400 = OccurrenceTable(
    "Itaú 400",
    {
        "02": "Entrada confirmada",
        "03": "Entrada rejeitada",
        "04": "Alteração de dados acatada",
        "05": "Alteração de dados – baixa",
        "06": "Liquidação normal",
        "07": "Liquidação parcial",
        "08": "Liquidação em cartório",
        "09": "Baixa simples",
        "10": "Baixa por ter sido liquidado",
        "11": "Em ser",
        "12": "Abatimento concedido",
        "13": "Abatimento cancelado",
        "14": "Vencimento alterado",
        "15": "Baixa rejeitada",
        "16": "Instrução rejeitada",
        "17": "Alteração/exclusão de dados rejeitada",
        "19": "Confirmação de recebimento de instrução de protesto",
        "20": "Confirmação de recebimento de instrução de sustação de protesto",
        "23": "Título enviado a cartório",
        "28": "Tarifa de relação das liquidações",
        "32": "Baixa por ter sido protestado",
    },
    frozenset({"06", "07", "08"}),
)

SANTANDER_400 = OccurrenceTable(
    "Santander 400",
    {
        "01": "Título não existe",
        "02": "Entrada confirmada",
        "03": "Entrada rejeitada",
        "06": "Liquidação",
        "07": "Liquidação por conta",
        "08": "Liquidação por saldo",
        "09": "Baixa automática",
        "10": "Título baixado conforme instrução",
        "11": "Em ser",
        "12": "Abatimento concedido",
        "13": "Abatimento cancelado",
        "14": "Prorrogação de vencimento",
        "15": "Enviado para cartório",
        "16": "Título já baixado/liquidado",
        "17": "Liquidado em cartório",
        "21": "Entrada em cartório",
        "22": "Retirado de cartório",
        "24": "Custas de cartório",
        "25": "Protestar título",
        "26": "Sustar protesto",
    },
    frozenset({"06", "07", "08", "17"}),
)

BANCO_DO_BRASIL_400 = OccurrenceTable(
    "Banco do Brasil CBR641/643",
    {
        "02": "Confirmação de entrada",
        "03": "Comando recusado",
        "05": "Liquidado sem registro",
        "06": "Liquidação normal",
        "07": "Liquidação por conta/parcial",
        "08": "Liquidação por saldo",
        "09": "Baixa de título",
        "10": "Baixa solicitada",
        "11": "Títulos em ser",
        "12": "Abatimento concedido",
        "13": "Abatimento cancelado",
        "14": "Alteração de vencimento",
        "15": "Liquidação em cartório",
        "19": "Confirmação de recebimento de instrução de protesto",
        "23": "Indicação de encaminhamento a cartório",
        "24": "Sustar protesto",
        "28": "Manutenção de título vencido",
        "44": "Título pago com cheque devolvido",
        "46": "Título pago com cheque, aguardando compensação",
        "96": "Despesas de protesto",
        "97": "Despesas de sustação de protesto",
        "98": "Débito de custas antecipadas",
    },
    frozenset({"05", "06", "07", "08", "15"}),
)

CAIXA_400 = OccurrenceTable(
    "Caixa 400",
    {
        "01": "Entrada confirmada",
        "02": "Baixa confirmada",
        "21": "Liquidação",
        "22": "Liquidação em cartório",
        "23": "Baixa por devolução",
        "25": "Baixa por protesto",
    },
    frozenset({"21", "22"}),
)

GENERIC_400 = OccurrenceTable(
    "CNAB 400 genérica (estilo Bradesco)",
    {
        "02": "Entrada confirmada",
        "03": "Entrada rejeitada",
        "06": "Liquidação normal",
        "09": "Baixa",
        "10": "Baixado conforme instruções",
        "12": "Abatimento concedido",
        "13": "Abatimento cancelado",
        "14": "Vencimento alterado",
        "15": "Liquidação em cartório",
        "17": "Liquidação após baixa ou título não registrado",
        "28": "Débito de tarifas/custas",
    },
    frozenset({"06", "15", "17"}),
)

TABLES_400 = {
    "001": BANCO_DO_BRASIL_400,
    "033": SANTANDER_400,
    "104": CAIXA_400,
    "237": BRADESCO_400,
    "341": ITAU_400,
}


def table_for(layout: int, bank: str) -> OccurrenceTable:
    if layout == 240:
        return FEBRABAN_240
    return TABLES_400.get(bank, GENERIC_400)
