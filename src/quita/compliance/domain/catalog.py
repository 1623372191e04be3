"""Rule ids and their legal basis. Ids follow the reference rule table (compliance-br.md §1) where it has one;
WA-*, DEBT-* and LINT-style findings are Quita's own ids for rules the table does not number."""

from __future__ import annotations

from quita.compliance.domain.decision import RuleResult

LEGAL_BASIS: dict[str, str] = {
    "CDC-01": "CDC art. 42 caput e art. 71; CP arts. 146, 147, 147-A",
    "CDC-02": "CDC art. 71 (afirmações falsas, incorretas ou enganosas)",
    "CDC-03": "CDC art. 42-A (Lei 12.039/2009)",
    "CDC-04": "CDC art. 42 parágrafo único; STJ EAREsp 676.608/RS",
    "CDC-10": "CDC art. 54-C IV e V (Lei 14.181/2021)",
    "CDC-16": "CC arts. 1.792 e 1.997",
    "TIME-02": "Leis 662/1949, 6.802/1980, 9.093/1995, 14.759/2023; pontos facultativos (boa prática)",
    "TIME-03": "Dec. 2.784/1913 (Lei 12.876/2013); Dec. 9.772/2019",
    "TIME-05": "Boa prática: as leis estaduais regulam o contato iniciado pela empresa",
    "FREQ-01": "Boa prática; CDC arts. 42 e 71 (contato excessivo é constrangimento)",
    "FREQ-02": "Boa prática; PL MG 484/2019",
    "FREQ-03": "Boa prática (insistência abusiva); CDC art. 42",
    "FREQ-04": "Boa prática: acordo ativo suspende a cobrança da dívida",
    "ID-01": "LGPD arts. 6 III e 46; CDC art. 42; LC 105/2001 arts. 1 e 10",
    "ID-03": "LGPD arts. 6, 7 IX/X e 10; Guia ANPD Legítimo Interesse (2024)",
    "ID-04": "CDC arts. 42 e 71; LGPD; LC 105/2001",
    "ID-05": "LGPD art. 18 III; CDC art. 42",
    "PRESC-01": "CC art. 206 §5º I; art. 202",
    "PRESC-02": "STJ REsp 2.088.100/SP e REsp 2.104.168; TJSP Enunciado 11",
    "PRESC-03": "FEBRABAN Normativo SARB 027/2023 (autorregulação)",
    "CHAN-01": "Política do WhatsApp Business (opt-in/opt-out); LGPD art. 18 §2º",
    "AGT-02": "Boa prática: tom formal, sem gírias, emojis, caixa alta ou pressão",
    "DEBT-01": "CDC art. 42 parágrafo único (cobrança indevida)",
    "WA-01": "WhatsApp Cloud API: fora da janela de 24 h só modelos aprovados",
    "WA-02": "WhatsApp Cloud API: modelo aprovado na categoria UTILITY",
    "WA-03": "WhatsApp Cloud API: limite de destinatários únicos por 24 h do portfólio",
    "WA-04": "WhatsApp Cloud API: o usuário parou as mensagens de marketing (user_preferences)",
}


def result(rule_id: str, message_pt: str, legal_basis: str | None = None) -> RuleResult:
    return RuleResult(rule_id, legal_basis or LEGAL_BASIS[rule_id], message_pt)
