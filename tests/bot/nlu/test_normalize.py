from hypothesis import given
from hypothesis import strategies as st

from quita.bot.nlu.normalize import normalize, strip_accents, tokens


def test_strips_accents_and_case() -> None:
    assert normalize("Não QUERO mais, Obrigado!") == "nao quero mais obrigado"
    assert strip_accents("ação é útil") == "acao e util"


def test_collapses_stretched_letters_but_keeps_digraphs() -> None:
    assert normalize("simmm") == "sim"
    assert normalize("naaaao") == "nao"
    assert normalize("isssso") == "isso"
    assert normalize("carrro") == "carro"
    assert normalize("pixx") == "pix"
    assert normalize("sairrrr") == "sair"


def test_expands_abbreviations() -> None:
    assert normalize("vc q pq blz td hj dps n") == "voce que porque beleza tudo hoje depois nao"
    assert normalize("tbm msg cmg obg") == "tambem mensagem comigo obrigado"


def test_keeps_money_and_dates_as_tokens() -> None:
    assert tokens("R$ 1.200,50 dia 15/12") == ["r$", "1.200,50", "dia", "15/12"]
    assert tokens("R$200") == ["r$", "200"]


def test_ordinal_marks_and_odd_unicode() -> None:
    assert normalize("dia 1º") == "dia 1"
    assert normalize("2ª via") == "2 via"
    assert normalize("𝐒𝐈𝐌") == "sim"
    assert normalize("manda no whats") == "manda no whatsapp"


def test_leaves_ambiguous_shorthand_alone() -> None:
    # "ter" is a weekday abbreviation and a verb; it must not be expanded.
    assert normalize("vou ter que pagar") == "vou ter que pagar"


@given(st.text(max_size=200))
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
