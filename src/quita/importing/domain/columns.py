"""Which column of a portfolio file holds which field.

Creditors export files from every imaginable system, so headers are matched after folding
(case, accents, punctuation) against pt-BR aliases; an explicit mapping file wins over aliases.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from quita.br.text import fold

# Canonical field -> accepted header aliases (already folded: lower-case, no accents, '_' separators).
ALIASES: Mapping[str, tuple[str, ...]] = {
    "external_id": ("id_titulo", "titulo", "id", "numero_titulo", "nr_titulo", "num_titulo", "id_externo",
                    "external_id", "cod_titulo", "codigo_titulo", "nosso_numero_origem"),
    "contract": ("contrato", "numero_contrato", "nr_contrato", "num_contrato", "contract"),
    "installment": ("parcela", "num_parcela", "nr_parcela", "numero_parcela", "prestacao", "installment"),
    "name": ("nome", "nome_devedor", "nome_cliente", "cliente", "devedor", "razao_social", "nome_razao_social",
             "name"),
    "document": ("cpf_cnpj", "cpf", "cnpj", "documento", "doc", "cpfcnpj", "cpf_cnpj_devedor", "document"),
    "birth_date": ("data_nascimento", "nascimento", "dt_nascimento", "data_de_nascimento", "birth_date"),
    "street": ("logradouro", "endereco", "rua", "street", "address"),
    "number": ("numero", "num", "nro", "number"),
    "complement": ("complemento", "complement"),
    "district": ("bairro", "district"),
    "city": ("cidade", "municipio", "city"),
    "ibge_code": ("codigo_ibge", "ibge", "cod_ibge", "cod_municipio", "codigo_municipio"),
    "uf": ("uf", "estado", "state"),
    "cep": ("cep", "zip", "codigo_postal"),
    "product": ("produto", "product", "tipo_produto"),
    "due_date": ("vencimento", "data_vencimento", "dt_vencimento", "data_de_vencimento", "venc", "due_date"),
    "principal": ("valor", "valor_original", "valor_titulo", "valor_principal", "principal", "saldo", "amount"),
    "fine_rate": ("multa", "multa_pct", "perc_multa", "percentual_multa", "taxa_multa", "fine_rate"),
    "interest_rate": ("juros", "juros_mes", "juros_mes_pct", "taxa_juros", "juros_mensal", "interest_rate"),
    "original_creditor_name": ("credor_original", "cedente_original", "original_creditor"),
    "original_creditor_cnpj": ("cnpj_credor_original", "cnpj_cedente_original", "original_creditor_cnpj"),
    "creditor_cnpj": ("cnpj_credor", "credor_cnpj", "creditor_cnpj"),
    "contact_provenance": ("origem_contato", "origem_telefone", "contact_provenance"),
    "tags": ("tags", "etiquetas", "segmento"),
}
# Several phone and e-mail columns are common (telefone1, telefone2, celular, whatsapp...).
PHONE_HEADER = re.compile(r"^(telefone|celular|fone|tel|whatsapp|phone|movel)(_?\d+)?$")
EMAIL_HEADER = re.compile(r"^(e_?mail|email)(_?\d+)?$")

REQUIRED = ("name", "document", "due_date", "principal")
FIELD_LABELS_PT: Mapping[str, str] = {
    "external_id": "id do título", "contract": "contrato", "name": "nome", "document": "CPF/CNPJ",
    "due_date": "vencimento", "principal": "valor",
}


def fold_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(header)).strip("_")


class NotAPortfolio(ValueError):
    """The file as a whole cannot be a portfolio; nothing is imported."""


@dataclass(frozen=True)
class ColumnMap:
    """Positions of each canonical field in a row."""

    fields: Mapping[str, int]
    phones: tuple[int, ...]
    emails: tuple[int, ...]
    headers: tuple[str, ...]
    ignored: tuple[str, ...] = field(default=())

    def header_of(self, field_name: str) -> str:
        if field_name in self.fields:
            return self.headers[self.fields[field_name]]
        return field_name


def resolve_columns(headers: Sequence[str], explicit: Mapping[str, str] | None = None) -> ColumnMap:
    """Maps a header row to fields. ``explicit`` maps a header (as written) to a canonical field name
    (or ``phone`` / ``email``)."""
    folded = [fold_header(h) for h in headers]
    if not any(folded):
        raise NotAPortfolio("o arquivo não tem cabeçalho: a primeira linha está vazia")
    explicit_folded = {fold_header(k): v for k, v in (explicit or {}).items()}
    unknown_targets = {v for v in explicit_folded.values() if v not in ALIASES and v not in ("phone", "email")}
    if unknown_targets:
        raise NotAPortfolio(f"mapeamento de colunas com campo desconhecido: {', '.join(sorted(unknown_targets))}")
    alias_index = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
    fields: dict[str, int] = {}
    phones: list[int] = []
    emails: list[int] = []
    ignored: list[str] = []
    for position, (raw, key) in enumerate(zip(headers, folded, strict=True)):
        target = explicit_folded.get(key) or alias_index.get(key)
        if target is None:
            if PHONE_HEADER.match(key):
                target = "phone"
            elif EMAIL_HEADER.match(key):
                target = "email"
        if target == "phone":
            phones.append(position)
        elif target == "email":
            emails.append(position)
        elif target is not None and target not in fields:
            fields[target] = position
        elif target is not None:
            raise NotAPortfolio(f"a coluna {raw!r} repete o campo {target!r} (já mapeado para outra coluna)")
        else:
            ignored.append(raw)
    missing = [name for name in REQUIRED if name not in fields]
    if "external_id" not in fields and "contract" not in fields:
        missing.append("external_id")
    if missing:
        labels = ", ".join(FIELD_LABELS_PT.get(m, m) for m in missing)
        shown = ", ".join(h for h in headers[:12] if h) or "(vazio)"
        raise NotAPortfolio(
            f"o arquivo não parece uma carteira: faltam as colunas obrigatórias {labels} "
            f"(cabeçalho encontrado: {shown})"
        )
    return ColumnMap(fields, tuple(phones), tuple(emails), tuple(headers), tuple(ignored))
