"""Content linter: pt-BR patterns, accent- and case-insensitive, each finding with its rule id."""

from __future__ import annotations

import pytest

from quita.compliance.domain import RuleSet, lint_text


def categories(text: str, rules: RuleSet) -> set[str]:
    return {f.category for f in lint_text(text, rules.linter)}


@pytest.mark.parametrize(
    ("text", "category", "rule_id"),
    [
        ("Vamos acionar seu empregador se não pagar.", "exposure", "ID-04"),
        ("VAMOS ACIONAR SEU EMPREGADOR", "exposure", "ID-04"),
        ("Seus vizinhos vão saber da dívida.", "exposure", "ID-04"),
        ("Vamos avisar sua família.", "exposure", "ID-04"),
        ("Seu nome será protestado hoje.", "false_urgency", "CDC-02"),
        ("seu nome sera protestado hoje", "false_urgency", "CDC-02"),
        ("Amanhã seu nome vai ser negativado.", "false_urgency", "CDC-02"),
        ("ÚLTIMO AVISO!!!", "false_urgency", "CDC-02"),
        ("ultimo aviso", "false_urgency", "CDC-02"),
        ("ÚLTIMO AVISO!!!", "shouting", "AGT-02"),
        ("Você é um caloteiro.", "ridicule", "CDC-01"),
        ("Que vergonha, não paga as contas.", "ridicule", "CDC-01"),
        ("Você pode ser preso por isso.", "threat", "CDC-01"),
        ("Vamos chamar a polícia.", "threat", "CDC-01"),
        ("Oi vc pode pagar?", "slang", "AGT-02"),
        ("Blz, te mando o boleto hj", "slang", "AGT-02"),
        ("Pague já 😡😡😡", "emoji", "AGT-02"),
        ("Pague já 😡", "threat", "CDC-01"),
        ("Pague o boleto de R$ 150,00 até sexta.", "creditor_identification", "CDC-03"),
    ],
)
def test_abusive_patterns_are_found(rules: RuleSet, text: str, category: str, rule_id: str) -> None:
    findings = [f for f in lint_text(text, rules.linter) if f.category == category]
    assert findings, f"{category} not found in {text!r}"
    assert findings[0].rule_id == rule_id
    assert findings[0].legal_basis


@pytest.mark.parametrize(
    "text",
    [
        "Olá, Maria. Aqui é a Quita Cobranças, em nome da Loja Exemplo. Para sua segurança, confirme os três "
        "primeiros dígitos do seu CPF.",
        "Sua parcela do acordo vence hoje. Se já pagou, desconsidere esta mensagem.",
        "Loja Exemplo Ltda, CNPJ 12.345.678/0001-95, Rua das Flores 100, São Paulo. Valor: R$ 150,00.",
        "Credor {{credor_nome}}, CNPJ {{credor_cnpj}}, {{credor_endereco}}. Valor atualizado: {{valor}}.",
        "Obrigado pelo retorno! Estamos à disposição pelo SAC.",
        "Prezado cliente, informamos que consta um débito em aberto. Podemos ajudar com um acordo?",
    ],
)
def test_clean_professional_messages_pass(rules: RuleSet, text: str) -> None:
    assert lint_text(text, rules.linter) == ()


def test_amount_without_cnpj_or_address_names_what_is_missing(rules: RuleSet) -> None:
    (finding,) = [
        f for f in lint_text("Valor: R$ 99,90. Pague pelo Pix.", rules.linter) if f.rule_id == "CDC-03"
    ]
    assert "CNPJ" in finding.message_pt and "endereço" in finding.message_pt


def test_acronyms_are_not_shouting(rules: RuleSet) -> None:
    assert "shouting" not in categories("Informe os 3 primeiros dígitos do CPF para o SAC.", rules)


def test_findings_are_serialisable(rules: RuleSet) -> None:
    (finding, *_) = lint_text("caloteiro", rules.linter)
    assert set(finding.to_dict()) == {"rule_id", "category", "excerpt", "message_pt", "legal_basis"}
