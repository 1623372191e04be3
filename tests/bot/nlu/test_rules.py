import pytest

from quita.bot.nlu.corpus import load_split
from quita.bot.nlu.intents import GUARDED_INTENTS, Intent
from quita.bot.nlu.normalize import normalize
from quita.bot.nlu.rules import fire, opt_out_rule, signals


def intents_fired(text: str) -> list[Intent]:
    return [hit.intent for hit in fire(text, normalize(text))]


@pytest.mark.parametrize(
    "text",
    [
        "PARAR",
        "sair",
        "Stop",
        "pare!!!",
        "ok PARAR",
        "Obrigado, mas SAIR",
        "descadastrar",
        "nao quero mais receber mensagem",
        "n quero mais receber msg de vcs",
        "para de me mandar mensagem",
        "me tira dessa lista",
        "oi boa tarde eu ja paguei mas por favor para de me mandar mensagem todo dia",
        "vcs sao chatos demais, nao me mandem mais nada, tchau",
        "sei que devo mas parem de me mandar msg no trabalho",
        "se nao pararem de mandar mensagem vou bloquear",
        "remove meu numero por favor",
        "quero ser removida dessa lista de envio",
        "pararrrr",
        "nunca mais me mande mensagem",
        "revogo o consentimento de receber mensagens",
    ],
)
def test_opt_out_is_caught_even_inside_other_sentences(text: str) -> None:
    assert intents_fired(text)[:1] == [Intent.OPT_OUT], text


@pytest.mark.parametrize(
    "text",
    [
        "vou parar de pagar esse cartao",
        "Eu vou PARAR de pagar",
        "PARAR DE PAGAR EU NAO VOU",
        "nao consigo parar de pensar nessa divida",
        "quero sair do serasa",
        "quero sair do vermelho",
        "como faço pra sair do spc",
        "tira meu nome do spc",
        "quero tirar meu nome do serasa",
        "para pagar como faço?",
        "separe o valor da entrada",
        "compare as propostas",
        "parece que o valor ta errado",
        "aparelho celular",
        "me tira desse sufoco, quero negociar",
        "nao quero receber boleto, manda pix",
        "quero cancelar o contrato",
        "quando eu sair do trabalho eu pago",
        "sexta eu pago",
    ],
)
def test_opt_out_false_positive_guards(text: str) -> None:
    assert Intent.OPT_OUT not in intents_fired(text), text


@pytest.mark.parametrize(
    "text",
    [
        "minha mae faleceu",
        "ele faleceu ano passado",
        "o titular é falecido",
        "meu pai morreu",
        "veio a obito",
        "ela falesceu",
    ],
)
def test_deceased(text: str) -> None:
    assert Intent.DECEASED in intents_fired(text)


@pytest.mark.parametrize(
    "text",
    [
        "to morto de cansaço",
        "vou morrer de fome se pagar isso",
        "meu celular morreu ontem",
        "to morrendo de trabalhar",
    ],
)
def test_deceased_false_positive_guards(text: str) -> None:
    assert Intent.DECEASED not in intents_fired(text)


@pytest.mark.parametrize(
    "text",
    [
        "vou no procon",
        "vou processar vcs",
        "meu advogado vai ligar",
        "vou entrar na justiça",
        "vou reclamar no reclame aqui",
        "abri reclamacao no consumidor.gov",
        "isso é cobrança abusiva",
        "vou pedir danos morais",
    ],
)
def test_complaint_legal(text: str) -> None:
    assert Intent.COMPLAINT_LEGAL in intents_fired(text)


@pytest.mark.parametrize(
    "text",
    [
        "o pagamento ta em processamento",
        "ja paguei, ta processando",
        "tenho boletim de ocorrencia do roubo dos documentos",
        "cobraram em dobro",
    ],
)
def test_complaint_false_positive_guards(text: str) -> None:
    assert Intent.COMPLAINT_LEGAL not in intents_fired(text)


def test_opt_out_outranks_other_guarded_intents() -> None:
    hits = fire(
        "vou no procon se nao pararem de me mandar mensagem",
        normalize("vou no procon se nao pararem de me mandar mensagem"),
    )
    assert [hit.intent for hit in hits] == [Intent.OPT_OUT, Intent.COMPLAINT_LEGAL]


def test_rule_names_say_why() -> None:
    assert opt_out_rule("PARAR", "parar") == "opt_out.bare_command"
    assert opt_out_rule("me tira dessa lista", normalize("me tira dessa lista")) is not None


def test_over_indebtedness_is_signalled() -> None:
    assert signals(normalize("to superendividado")) == ["over_indebted"]
    assert signals(normalize("to sem dinheiro")) == []


def test_rules_never_fire_a_guarded_intent_on_unguarded_training_examples() -> None:
    """Precision check over ~2,700 realistic messages of the other intents (dispute, cannot_pay, ...)."""
    wrong = []
    for example in load_split("train") + load_split("eval"):
        if example.intent in GUARDED_INTENTS:
            continue
        hits = fire(example.text, normalize(example.text))
        if hits:
            wrong.append((example.source, example.text, hits[0].rule))
    assert wrong == []
