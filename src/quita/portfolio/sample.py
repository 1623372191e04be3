"""Synthetic creditor portfolio (CSV) for demos, tests and the import benchmark.

The file imitates what a Brazilian creditor actually exports: ';'-separated, Brazilian number and date
formats, phones and documents typed in assorted ways, debtors with several installments of one contract,
some sold portfolios with the original creditor, and debts both recent and past the 5-year prescription line.
Optionally a share of rows carries exactly one known defect each, reported with its row and column, so the
importer's error reporting can be checked against ground truth.

Rows are generated and written one debtor at a time, so memory stays flat for a million rows. Content comes
from one ``random.Random`` seeded with ``seed`` and defects from a second stream derived from it, so the same
seed (and ``today``) gives a byte-identical file, and turning defects on leaves the other rows unchanged.
"""

from __future__ import annotations

import datetime
import math
import random
from bisect import bisect
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from quita.br.dates import format_br_date
from quita.br.documents import InvalidDocument, generate_cnpj, generate_cpf, parse_document
from quita.br.geo import MUNICIPALITIES, UFS, Municipality
from quita.br.phones import UF_TO_DDDS
from quita.br.text import fold

T = TypeVar("T")

__all__ = ["COLUMNS", "ERROR_KINDS", "InjectedError", "SampleSummary", "write_sample_portfolio"]

COLUMNS: tuple[str, ...] = (
    "id_titulo", "contrato", "parcela", "nome", "cpf_cnpj", "data_nascimento", "logradouro", "numero",
    "complemento", "bairro", "cidade", "codigo_ibge", "uf", "cep", "telefone", "telefone2", "email",
    "produto", "vencimento", "valor", "multa_pct", "juros_mes_pct", "credor_original", "cnpj_credor_original",
)  # fmt: skip
_COL = {name: i for i, name in enumerate(COLUMNS)}

# kind → column it breaks
ERROR_KINDS: Mapping[str, str] = MappingProxyType(
    {
        "invalid_cpf": "cpf_cnpj",
        "impossible_date": "vencimento",
        "bad_amount": "valor",
        "non_positive_amount": "valor",
        "missing_name": "nome",
        "bad_phone": "telefone",
        "bad_uf": "uf",
        "duplicate_id": "id_titulo",
    }
)


@dataclass(frozen=True)
class InjectedError:
    row: int  # 1-based line number as the importer counts it: header is line 1, first data row is 2
    column: str
    kind: str


@dataclass(frozen=True)
class SampleSummary:
    rows: int
    debtors: int
    injected_errors: tuple[InjectedError, ...]


_FIRST_NAMES = (
    "Maria", "José", "Ana", "João", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luiz",
    "Marcos", "Luís", "Gabriel", "Rafael", "Francisca", "Daniel", "Marcelo", "Bruno", "Eduardo", "Felipe",
    "Raimundo", "Rodrigo", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda", "Patrícia", "Aline",
    "Sandra", "Camila", "Amanda", "Bruna", "Jéssica", "Letícia", "Júlia", "Luciana", "Vanessa", "Mariana",
    "Gustavo", "Matheus", "Leonardo", "Thiago", "Diego", "Vitória", "Beatriz", "Larissa", "Raimunda",
    "Sebastião", "Cícero", "Valdir", "Edson", "Josefa", "Conceição", "Rosângela", "Cláudia", "Simone",
    "Heloísa", "Davi", "Enzo", "Valentina", "Kauã", "Ítalo", "Luana", "Tatiane", "Wellington", "Cleiton",
)  # fmt: skip
_SURNAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
    "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira",
    "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques", "Machado", "Mendes",
    "Freitas", "Cardoso", "Ramos", "Gonçalves", "Santana", "Teixeira", "Araújo", "Cavalcanti", "Monteiro",
    "Correia", "Pinto", "Batista", "Moura", "Campos", "Medeiros", "Farias", "Brito", "Queiroz", "Conceição",
    "Aragão", "Magalhães", "Figueiredo", "Sá", "Bezerra", "Holanda", "Tavares", "Pires", "Xavier",
)  # fmt: skip
_PARTICLES = ("", "", "", "da ", "dos ", "de ")
_COMPANY_KINDS = ("Comércio de Alimentos", "Materiais de Construção", "Transportes", "Serviços Médicos",
                  "Confecções", "Auto Peças", "Padaria", "Distribuidora", "Informática", "Restaurante")  # fmt: skip
_COMPANY_SUFFIXES = ("Ltda", "Ltda", "ME", "EIRELI", "S.A.", "EPP")
_STREET_TYPES = ("Rua", "Rua", "Rua", "Avenida", "Travessa", "Alameda", "Estrada")
_STREET_NAMES = (
    "das Flores", "Sete de Setembro", "XV de Novembro", "Brasil", "Getúlio Vargas", "Tiradentes",
    "Santos Dumont", "São João", "Dom Pedro II", "Rui Barbosa", "Marechal Deodoro", "José Bonifácio",
    "Princesa Isabel", "das Palmeiras", "Castro Alves", "Barão do Rio Branco", "Duque de Caxias",
    "Presidente Vargas", "da Paz", "Boa Vista", "Bahia", "Paraná", "dos Andradas", "Pernambuco",
)  # fmt: skip
_BAIRROS = ("Centro", "Jardim América", "Vila Nova", "Boa Vista", "São José", "Santa Cruz", "Industrial",
            "Jardim das Flores", "Cidade Nova", "Vila Operária", "Bela Vista", "Planalto", "Santo Antônio",
            "Parque São Jorge", "Conjunto Habitacional", "Liberdade", "Aparecida", "Alvorada")  # fmt: skip
_COMPLEMENTS = ("Apto 12", "Apto 304", "Casa 2", "Bloco B Apto 101", "Fundos", "Sala 5", "Lote 7 Quadra 3")
_EMAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "hotmail.com", "outlook.com", "yahoo.com.br",
                  "uol.com.br", "bol.com.br", "terra.com.br")  # fmt: skip

# product → (min cents, max cents, log-normal median cents, max installments, original creditors)
_PRODUCTS: tuple[tuple[str, int, int, int, int, tuple[str, ...]], ...] = (
    ("Cartão de crédito", 5_000, 2_000_000, 90_000, 1, ("Banco Horizonte S.A.", "Financeira Aurora S.A.")),
    ("Empréstimo pessoal", 10_000, 500_000, 45_000, 6, ("Financeira Aurora S.A.", "Banco Horizonte S.A.")),
    ("Financiamento de veículo", 50_000, 800_000, 140_000, 6, ("Banco Horizonte S.A.",)),
    ("Conta de energia", 5_000, 150_000, 18_000, 4, ("Companhia Energética Regional S.A.",)),
    ("Mensalidade escolar", 25_000, 500_000, 95_000, 6, ("Colégio Novo Saber Ltda",)),
    ("Crediário", 5_000, 200_000, 25_000, 6, ("Lojas Bom Preço Ltda", "Magazine Popular S.A.")),
    ("Conta de telefone e internet", 5_000, 80_000, 14_000, 3, ("Conecta Telecom S.A.",)),
)
_PRODUCT_WEIGHTS = (25, 20, 6, 14, 8, 20, 7)

# Rough population shares (percent) with a floor so that every UF shows up even in small samples.
_UF_WEIGHTS = {
    "SP": 21.9, "MG": 10.0, "RJ": 7.9, "BA": 6.9, "PR": 5.6, "RS": 5.3, "PE": 4.5, "CE": 4.3, "PA": 4.0,
    "SC": 3.7, "GO": 3.5, "MA": 3.3, "AM": 1.9, "ES": 1.9, "PB": 1.9, "MT": 1.8, "RN": 1.6, "AL": 1.5,
    "PI": 1.6, "DF": 1.4, "MS": 1.4, "SE": 1.1, "RO": 1.0, "TO": 1.0, "AC": 1.0, "AP": 1.0, "RR": 1.0,
}  # fmt: skip

_IMPOSSIBLE_DATES = ("31/02/{y}", "30/02/{y}", "31/04/{y}", "31/06/{y}", "31/09/{y}", "31/11/{y}",
                     "32/01/{y}", "15/13/{y}", "00/05/{y}")  # fmt: skip
_BAD_AMOUNTS = ("12,345", "R$ dez", "1.23.456", "#VALOR!", "1,5e3", "12.34.56", "R$ 1.234,56,7", "--50,00")
_NON_POSITIVE_AMOUNTS = ("0,00", "0", "-150,00", "-1.234,56", "(89,90)")
_BAD_PHONES = ("(20) 98765-4321", "1234", "(11) 12345-6789", "9999", "+1 415 555 2671", "(30) 3333-4444",
               "11 98765-43210", "sem telefone")  # fmt: skip
_BAD_UFS = ("XX", "BR", "Sao Palo", "S.P.", "MN", "ZZ", "Guanabara")


_PARTICLE_FORMS = {
    "Silva": "da Silva", "Santos": "dos Santos", "Conceição": "da Conceição", "Costa": "da Costa",
    "Oliveira": "de Oliveira", "Souza": "de Souza", "Almeida": "de Almeida", "Lima": "de Lima",
    "Nascimento": "do Nascimento", "Araújo": "de Araújo", "Freitas": "de Freitas", "Moura": "de Moura",
}  # fmt: skip


class _Debtor:
    """One debtor's constant columns; ``middle`` is the pre-joined data_nascimento … email segment."""

    __slots__ = ("document", "document_masked", "middle", "nome")

    def __init__(self, nome: str, document: str, document_masked: str, middle: str) -> None:
        self.nome = nome
        self.document = document
        self.document_masked = document_masked
        self.middle = middle


def _brl(cents: int) -> str:
    return f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"


def _mask_cpf(v: str) -> str:
    return f"{v[:3]}.{v[3:6]}.{v[6:9]}-{v[9:]}"


def _mask_cnpj(v: str) -> str:
    return f"{v[:2]}.{v[2:5]}.{v[5:8]}/{v[8:12]}-{v[12:]}"


class _Generator:
    """Draws debtors and contracts. Hot path: avoids validation (documents are generated valid) and
    ``Random.choice`` (indexing with ``random()`` is several times faster)."""

    def __init__(self, seed: int, today: datetime.date) -> None:
        self.rng = random.Random(seed)
        self.random = self.rng.random
        self.today = today
        self.ufs = list(_UF_WEIGHTS)
        self.uf_cum_weights = _cumulative([_UF_WEIGHTS[uf] for uf in self.ufs])
        self.cities: dict[str, tuple[list[Municipality], list[float]]] = {}
        for uf in UFS:
            towns = [m for m in MUNICIPALITIES if m.uf == uf]  # capital first
            weights = [3.0 * max(1, len(towns) - 1)] + [1.0] * (len(towns) - 1)
            self.cities[uf] = (towns, _cumulative(weights))
        self.product_cum_weights = _cumulative(list(_PRODUCT_WEIGHTS))
        # Original creditors of sold portfolios get a CNPJ each, fixed for the seed; one is alphanumeric.
        names = sorted({c for p in _PRODUCTS for c in p[5]})
        self.creditor_cnpj = {
            name: generate_cnpj(self.rng, alphanumeric=(i == len(names) - 1)) for i, name in enumerate(names)
        }
        self.folded = {n: fold(n).replace(" ", "") for n in (*_FIRST_NAMES, *_SURNAMES)}
        self.date_cache: dict[tuple[int, int], str] = {}

    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def pick_weighted(self, seq: Sequence[T], cum_weights: list[float]) -> T:
        return seq[bisect(cum_weights, self.random() * cum_weights[-1])]

    def surname(self) -> tuple[str, str]:
        plain = self.pick(_SURNAMES)
        written = _PARTICLE_FORMS.get(plain, plain) if self.random() < 0.4 else plain
        return plain, written

    # --- debtor -----------------------------------------------------------------------------------------
    def debtor(self) -> _Debtor:
        rng, rand, pick = self.rng, self.random, self.pick
        uf = self.pick_weighted(self.ufs, self.uf_cum_weights)
        towns, town_weights = self.cities[uf]
        town = self.pick_weighted(towns, town_weights)
        if rand() < 0.05:  # a company
            surname = pick(_SURNAMES)
            nome = f"{pick(_COMPANY_KINDS)} {surname} {pick(_COMPANY_SUFFIXES)}"
            document = generate_cnpj(rng, alphanumeric=rand() < 0.2)
            masked = _mask_cnpj(document)
            nascimento = ""
            email_user = f"financeiro.{self.folded[surname]}"
        else:
            first = pick(_FIRST_NAMES)
            if rand() < 0.2:
                first = f"{first} {pick(_FIRST_NAMES)}"
            middle, middle_written = self.surname()
            last, last_written = self.surname()
            nome = f"{first} {last_written}" if middle == last else f"{first} {middle_written} {last_written}"
            if rand() < 0.3:  # some files come in capitals
                nome = nome.upper()
            document = generate_cpf(rng)
            masked = _mask_cpf(document)
            nascimento = "" if rand() < 0.1 else self._birth_date()
            email_user = f"{self.folded[first.split(' ')[0]]}.{self.folded[last]}{int(rand() * 100)}"
        email = "" if rand() < 0.3 else f"{email_user}@{pick(_EMAIL_DOMAINS)}"
        cep_lo, cep_hi = town.cep_range
        cep = f"{cep_lo + int(rand() * (cep_hi - cep_lo + 1)):05d}{int(rand() * 1000):03d}"
        if rand() < 0.8:
            cep = f"{cep[:5]}-{cep[5:]}"
        ddds = UF_TO_DDDS[uf]
        telefone = self._phone(town.ddd if rand() < 0.85 else pick(ddds))
        telefone2 = self._phone(pick(ddds)) if rand() < 0.35 else ""
        middle_segment = ";".join(
            (
                nascimento,
                f"{pick(_STREET_TYPES)} {pick(_STREET_NAMES)}",
                "S/N" if rand() < 0.03 else str(1 + int(rand() * 3500)),
                pick(_COMPLEMENTS) if rand() < 0.25 else "",
                pick(_BAIRROS),
                town.name,
                "" if rand() < 0.1 else town.ibge_code,
                uf,
                cep,
                telefone,
                telefone2,
                email,
            )
        )
        return _Debtor(nome, document, masked, middle_segment)

    def _birth_date(self) -> str:
        days = 18 * 365 + 5 + int(self.random() * 67 * 365)
        return format_br_date(self.today - datetime.timedelta(days=days))

    def _phone(self, ddd: int) -> str:
        rand = self.random
        kind = rand()
        if kind < 0.12:  # landline, 8 digits starting 2-5
            number = f"{2 + int(rand() * 4)}{int(rand() * 10_000_000):07d}"
            return f"({ddd}) {number[:4]}-{number[4:]}"
        eight = f"{6 + int(rand() * 4)}{int(rand() * 10_000_000):07d}"
        if kind < 0.20:  # legacy 8-digit mobile, without the ninth digit
            return f"{ddd} {eight[:4]}-{eight[4:]}"
        style = int(rand() * 6)
        if style == 0:
            return f"({ddd}) 9{eight[:4]}-{eight[4:]}"
        if style == 1:
            return f"{ddd}9{eight}"
        if style == 2:
            return f"+55 {ddd} 9{eight[:4]}-{eight[4:]}"
        if style == 3:
            return f"0{ddd}9{eight}"
        if style == 4:
            return f"55{ddd}9{eight}"
        return f"({ddd}) 9 {eight[:4]}-{eight[4:]}"

    def due_date(self, month_index: int, day: int) -> str:
        key = (month_index, day)
        text = self.date_cache.get(key)
        if text is None:
            text = self.date_cache[key] = f"{day:02d}/{month_index % 12 + 1:02d}/{month_index // 12:04d}"
        return text

    # --- debts ------------------------------------------------------------------------------------------
    def contract(self) -> tuple[str, int, int, str, int, int]:
        """(produto, installments, cents, 'multa;juros;credor;cnpj' tail, first due month index, due day)."""
        rng, rand = self.rng, self.random
        produto, lo, hi, median, max_n, creditors = rng.choices(
            _PRODUCTS, cum_weights=self.product_cum_weights
        )[0]
        n = 1 + int(rand() * max_n) if max_n > 1 else self.pick((1, 1, 1, 2, 3))
        cents = min(hi, max(lo, int(median * math.exp(rng.gauss(0.0, 0.7)))))
        draw = rand()
        multa = "2,00" if draw < 0.85 else ("" if draw < 0.95 else "1,00")
        draw = rand()
        juros = "1,00" if draw < 0.85 else ("" if draw < 0.95 else "0,50")
        if rand() < 0.3:
            credor = self.pick(creditors)
            cnpj = self.creditor_cnpj[credor]
            cnpj_text = _mask_cnpj(cnpj) if rand() < 0.7 else cnpj
        else:
            credor, cnpj_text = "", ""
        # Due dates: mostly the last two years, some 2-5 years back, a few past the 5-year prescription line,
        # and some still to fall due (up to ~60 days ahead).
        zone = rand()
        if zone < 0.08:
            last_due_offset = int(rand() * 61)
        elif zone < 0.70:
            last_due_offset = -1 - int(rand() * 730)
        elif zone < 0.95:
            last_due_offset = -731 - int(rand() * 1095)
        else:
            last_due_offset = -1826 - int(rand() * 185)
        last_due = self.today + datetime.timedelta(days=last_due_offset)
        first_month = last_due.year * 12 + last_due.month - 1 - (n - 1)
        tail = f"{multa};{juros};{credor};{cnpj_text}"
        return produto, n, cents, tail, first_month, min(last_due.day, 28)


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = 0.0
    out = []
    for w in weights:
        total += w
        out.append(total)
    return out


def _rows(gen: _Generator, seed: int) -> Iterator[tuple[str, bool]]:
    """Yields (CSV line without newline, is_first_row_of_a_debtor) forever; every field is valid."""
    rand = gen.random
    date_cache = gen.date_cache
    contract_no = 1_000_000 + (seed % 9_000) * 100_000
    while True:
        debtor = gen.debtor()
        first_row = True
        for _ in range(1 if rand() < 0.8 else 2):  # some debtors have two contracts
            produto, n, cents, tail, first_month, day = gen.contract()
            contract_no += 1 + int(rand() * 17)
            contrato = f"{contract_no:010d}"
            value = _brl(cents)
            varies = produto == "Conta de energia"  # bills vary month to month
            # The columns between parcela and vencimento are fixed per contract, but for the document's mask.
            fixed_masked = f"{debtor.nome};{debtor.document_masked};{debtor.middle};{produto};"
            fixed_bare = f"{debtor.nome};{debtor.document};{debtor.middle};{produto};"
            month = first_month
            for parcela in range(1, n + 1):
                if varies:
                    value = _brl(max(5_000, cents + int(rand() * 6001) - 3000))
                key = (month, day)
                due = date_cache.get(key) or gen.due_date(month, day)
                yield (
                    f"{contrato}-{parcela:02d};{contrato};{parcela};"
                    f"{fixed_masked if rand() < 0.5 else fixed_bare}{due};{value};{tail}",
                    first_row,
                )
                first_row = False
                month += 1


def _break_cpf(document: str, rng: random.Random) -> str:
    """Changes a check digit so the document no longer validates (keeps the mask if any)."""
    last = document[-1]
    return document[:-1] + str((int(last) + rng.randint(1, 9)) % 10)


def _inject(
    fields: list[str], kind: str, rng: random.Random, recent_ids: deque[str], today: datetime.date
) -> None:
    if kind == "invalid_cpf":
        original = fields[_COL["cpf_cnpj"]]
        while True:
            candidate = _break_cpf(original, rng)
            try:
                parse_document(candidate)
            except InvalidDocument:
                break
        fields[_COL["cpf_cnpj"]] = candidate
    elif kind == "impossible_date":
        fields[_COL["vencimento"]] = rng.choice(_IMPOSSIBLE_DATES).format(y=today.year - rng.randint(0, 4))
    elif kind == "bad_amount":
        fields[_COL["valor"]] = rng.choice(_BAD_AMOUNTS)
    elif kind == "non_positive_amount":
        fields[_COL["valor"]] = rng.choice(_NON_POSITIVE_AMOUNTS)
    elif kind == "missing_name":
        fields[_COL["nome"]] = rng.choice(("", "   "))
    elif kind == "bad_phone":
        fields[_COL["telefone"]] = rng.choice(_BAD_PHONES)
    elif kind == "bad_uf":
        fields[_COL["uf"]] = rng.choice(_BAD_UFS)
    elif kind == "duplicate_id":
        fields[_COL["id_titulo"]] = rng.choice(recent_ids)
    else:  # pragma: no cover - guarded by ERROR_KINDS
        raise ValueError(kind)


def write_sample_portfolio(
    path: Path,
    *,
    rows: int,
    seed: int,
    bad_rows: float = 0.0,
    today: datetime.date | None = None,
) -> SampleSummary:
    """Writes ``rows`` data rows to ``path`` and returns what was written, including every injected defect.

    ``today`` anchors the due dates (default: the current date, so pass it for reproducible files).
    Exactly ``round(rows * bad_rows)`` rows get one defect each.
    """
    if rows < 0:
        raise ValueError("rows must be ≥ 0")
    if not 0.0 <= bad_rows <= 1.0:
        raise ValueError("bad_rows must be a fraction between 0 and 1")
    today = today or datetime.date.today()
    gen = _Generator(seed, today)
    # Defects come from their own stream, so the valid content does not depend on bad_rows.
    err_rng = random.Random(f"quita-sample-errors:{seed}")
    bad_left = round(rows * bad_rows)
    recent_ids: deque[str] = deque(maxlen=64)  # ids of recent clean rows, for duplicate_id
    kinds = list(ERROR_KINDS)
    errors: list[InjectedError] = []
    debtors = 0
    row_source = _rows(gen, seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(";".join(COLUMNS) + "\n")
        buffer: list[str] = []
        for index in range(rows):
            line, starts_debtor = next(row_source)
            debtors += starts_debtor
            remaining = rows - index
            if bad_left and err_rng.random() * remaining < bad_left:  # selection sampling: exact count
                bad_left -= 1
                kind = err_rng.choice(kinds)
                if kind == "duplicate_id" and not recent_ids:
                    kind = "invalid_cpf"
                fields = line.split(";")
                _inject(fields, kind, err_rng, recent_ids, today)
                line = ";".join(fields)
                errors.append(InjectedError(row=index + 2, column=ERROR_KINDS[kind], kind=kind))
            elif bad_left:
                recent_ids.append(line[: line.index(";")])
            buffer.append(line)
            if len(buffer) >= 2000:
                buffer.append("")
                out.write("\n".join(buffer))
                buffer.clear()
        if buffer:
            buffer.append("")
            out.write("\n".join(buffer))
    return SampleSummary(rows=rows, debtors=debtors, injected_errors=tuple(errors))
