from __future__ import annotations

import pytest

from quita.importing.domain.columns import NotAPortfolio, fold_header, resolve_columns


def test_headers_match_after_folding_case_accents_and_punctuation() -> None:
    cmap = resolve_columns(["Nº Título", "NOME DO CLIENTE", "CPF/CNPJ", "Data de Vencimento", "Valor (R$)",
                            "Celular 1", "Telefone2", "E-mail", "Observação"],
                           explicit={"Nº Título": "external_id", "Nome do Cliente": "name", "Valor (R$)": "principal"})
    assert cmap.fields == {"external_id": 0, "name": 1, "document": 2, "due_date": 3, "principal": 4}
    assert cmap.phones == (5, 6) and cmap.emails == (7,) and cmap.ignored == ("Observação",)
    assert fold_header("  Data de Nascimento ") == "data_de_nascimento"


def test_contract_can_stand_in_for_the_debt_id() -> None:
    cmap = resolve_columns(["contrato", "parcela", "nome", "cpf", "vencimento", "valor"])
    assert "external_id" not in cmap.fields and cmap.fields["contract"] == 0


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (["produto", "quantidade"], "faltam as colunas obrigatórias"),
        (["", "", ""], "não tem cabeçalho"),
        (["nome", "cpf", "cnpj", "vencimento", "valor", "id"], "repete o campo"),
    ],
)
def test_unusable_headers_are_refused(headers: list[str], message: str) -> None:
    with pytest.raises(NotAPortfolio, match=message):
        resolve_columns(headers)


def test_explicit_mapping_to_an_unknown_field_is_refused() -> None:
    with pytest.raises(NotAPortfolio, match="campo desconhecido"):
        resolve_columns(["a", "b"], explicit={"a": "salary"})
