"""High-precision rules for the intents where a miss is costly.

An opt-out that is missed means we keep messaging someone who objected (LGPD art. 18,
WhatsApp policy); a missed death keeps collecting from a grieving family (CDC-16); a
missed legal threat keeps a bot talking where a human must (CDC-12, CDC-04). These
rules override the statistical model. Each rule has a name so the dialog and the
audit log can say *why* a message was read as it was.

Rules read the normalised text (see ``normalize``). False-positive guards remove
phrases such as "parar de pagar" or "sair do SPC" before the opt-out patterns run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from quita.bot.nlu.intents import Intent
from quita.bot.nlu.normalize import strip_accents


@dataclass(frozen=True, slots=True)
class RuleHit:
    intent: Intent
    rule: str


_STOP_WORDS = r"(?:parar|para|pare|parem|sair|sai|stop|cancelar|cancela|descadastrar|remover|chega|basta|unsubscribe|some|sumam|suma)"
_FILLER = {
    "por", "favor", "ok", "obrigado", "obrigada", "agora", "ja", "ta", "e", "so", "isso", "tudo", "mensagem",
    "mensagens", "pelo", "amor", "de", "deus", "gentileza", "valeu", "tchau", "sim", "quero", "pode", "pls",
    "please", "plis", "sem", "interesse", "daqui", "fora", "ai", "falei", "mano", "moco", "moca",
}  # fmt: skip
_CONTACT = r"(?:mensage\w*|msg|mandar|enviar|manda|envia|mandando|enviando|ligar|ligando|chamar|escrever|contatar|contactar|contato|notifica\w*|cobrar por (?:aqui|mensagem|whatsapp))"
_MY_CONTACT = r"(?:me|meu (?:numero|contato|telefone|celular|whatsapp|cadastro)|(?:esse|este) contato|(?:esse|este) (?:numero|telefone)(?! do cadastro del))"

# Phrases that *look* like opt-out but are not: blanked before the opt-out patterns run.
_OPT_OUT_GUARDS = [
    re.compile(r"\bpar(?:ar|ei|o|a|e) de pagar\b"),
    re.compile(r"\b(?:nao )?consig\w* parar\b"),
    re.compile(
        r"\bsair (?:do|da|de|dos|das) (?:spc|serasa|vermelho|negativ\w*|divida\w*|buraco|aperto|trabalho|casa|emprego|sufoco|lista (?:do|de) (?:spc|serasa|negativ\w*|devedores|inadimplentes))\b"
    ),
    re.compile(
        r"\b(?:tira|tirar|tire|tirem|limpar|remover|retira\w*|exclui\w*) (?:o )?meu nome (?:do|da|dos|de) (?:spc|serasa|negativ\w*|protesto|cartorio|boa vista|cadastro de (?:devedores|inadimplentes))\b"
    ),
    re.compile(r"\bpara (?:pagar|quitar|negociar|acertar|falar|ver|saber|mim|voce|eu|o|a|os|as)\b"),
    re.compile(
        r"\bcancel\w* (?:o |a |esse |essa |meu |minha )?(?:contrato|plano|servico|cartao|linha|compra|pedido|acordo|divida)\b"
    ),
    re.compile(
        r"\breceber (?:o |os |a |as |um |uma |pelo |por |no |na )?(?:boleto\w*|carne|pix|codigo|link|ligac\w*|carta|email|sms|visita|cobrador|dinheiro|salario|pagamento)\b"
    ),
]
_OPT_OUT = [
    (
        "opt_out.stop_from_contact",
        re.compile(
            rf"\b(?:para|pare|parem|parar|pararem|chega|cansei|deixa|deixem) (?:de |com )?(?:me |ficar (?:me )?)?(?:\w+ e )?{_CONTACT}"
        ),
    ),
    (
        "opt_out.remove_me",
        re.compile(
            r"\bme (?:tira|tire|tirem|tirar|remove|remova|removam|remover|exclui|exclua|excluam|excluir|retira|retire|retirem)\b(?! (?:do|da|dos|das|de|desse|dessa|deste|desta) (?:spc|serasa|negativ\w*|cadastro de|vermelho|divida|sufoco|aperto|buraco|situacao))"
        ),
    ),
    (
        "opt_out.cancel_messages",
        re.compile(
            r"\bcancel\w* (?:as |essas |estas |o )?(?:mensage\w*|notifica\w*|envios?|msg)\b|\bnao aguento mais (?:essas? |estas? )?(?:mensage\w*|cobranc\w*|notifica\w*)"
        ),
    ),
    (
        "opt_out.asked_before",
        re.compile(
            r"\b(?:peco|pedi|pedindo|mandei|falei|disse|solicit\w*|mandaram) (?:pra |para |que |voces )?(?:voces )?(?:parar|pararem|sair|me tirar\w*|me remover\w*|remover|tirar)\b"
        ),
    ),
    (
        "opt_out.do_not_use_number",
        re.compile(
            r"\bnao (?:usem|use|utiliz\w*)(?: mais)? (?:o )?meu (?:numero|contato|telefone)|\bque usem meu (?:numero|contato)|\b(?:exclusao|remocao) d[oe] (?:meu )?(?:numero|contato|telefone|cadastro)\b"
        ),
    ),
    ("opt_out.go_away", re.compile(r"\bsumam\b|\bdesaparec(?:am|e daqui)\b")),
    (
        "opt_out.stop_bothering",
        re.compile(
            r"\b(?:para|pare|parem|parar) (?:de |com )?(?:me )?(?:encher|perturbar|incomodar|importunar|atazanar|amolar|procurar)\b"
        ),
    ),
    (
        "opt_out.stop_with_this",
        re.compile(
            r"\b(?:para|pare|parem|parar) com (?:isso|essas? (?:mensage\w*|cobranc\w*|msg|coisas?)|as mensage\w*|esse spam)"
        ),
    ),
    (
        "opt_out.no_more_messages",
        re.compile(
            r"\bnao receber mais\b|\bnao receber (?:mensage\w*|notifica\w*|essas)|\bnao (?:quero|quer|desejo|desejamos|aceito|autorizo|preciso)(?: mais)? (?:receber|ser (?:contatad\w|incomodad\w|cobrad\w por (?:aqui|mensagem|whatsapp)))"
        ),
    ),
    (
        "opt_out.no_more_contact",
        re.compile(r"\bnao (?:quero|desejo)(?: mais)? (?:contato|conversa|mensage\w*|notifica\w*)\b"),
    ),
    (
        "opt_out.do_not_send",
        re.compile(
            r"\b(?:nao|nunca mais) (?:me )?(?:mand\w*|envi\w*|chame|chama|chamem|ligue\w*|procur\w*|contat\w*|escrev\w*|incomod\w*|perturb\w*)(?: \w+)? mais\b|\bnunca mais (?:me )?(?:mand\w*|envi\w*|procur\w*|chame|chama|escrev\w*)\b"
        ),
    ),
    (
        "opt_out.do_not_send_here",
        re.compile(
            r"\bnao (?:mand\w*|envi\w*) (?:mais )?(?:nada|mensage\w*) (?:pra|para) (?:esse|este|meu) (?:numero|contato|whatsapp|celular)\b"
        ),
    ),
    (
        "opt_out.dont_contact",
        re.compile(
            r"\bnao (?:entre|entrem|me contate|me contatem|me procure\w*)(?: mais)?(?: em contato)?\b"
        ),
    ),
    (
        "opt_out.remove_me",
        re.compile(
            rf"\b(?:tira|tire|tirem|tirar|remove|remova|removam|remover|exclui|exclua|excluam|excluir|retira|retire|retirem|apaga|apague|apaguem|apagar|deleta|delete|deletem|esquece|esquecam) {_MY_CONTACT}\b(?! nome)"
        ),
    ),
    (
        "opt_out.remove_me_list",
        re.compile(
            r"\b(?:tira\w*|remov\w*|exclu\w*|retir\w*|sair)(?: \w+){0,3} (?:d[aeo]ss?a |da |de )?lista\b(?! (?:do|de) (?:spc|serasa|negativ|devedor|inadimpl))"
        ),
    ),
    (
        "opt_out.be_removed",
        re.compile(r"\b(?:quero|gostaria de|desejo) ser (?:removid\w|excluid\w|retirad\w|descadastrad\w)"),
    ),
    (
        "opt_out.unsubscribe",
        re.compile(
            r"\bdescadastr\w*|\bunsubscribe\b|\bopt ?out\b|\bcancelar (?:o )?(?:recebimento|envio|inscricao|as mensagens|mensagens|notificacoes)\b"
        ),
    ),
    (
        "opt_out.stop_receiving",
        re.compile(
            r"\bpar(?:ar|e|em|a) de receber\b|\bpar(?:ar|a|e|em) (?:o |com o )?(?:envio|mensage\w*|notifica\w*)\b|\bdesativ\w* (?:as |essas )?(?:mensage\w*|notifica\w*)"
        ),
    ),
    (
        "opt_out.leave_me_alone",
        re.compile(
            r"\bme (?:deixa|deixe|deixem) em paz\b|\bme esquece\w*\b|\besquece\w* (?:meu|esse) numero\b"
        ),
    ),
    (
        "opt_out.block_or_spam",
        re.compile(
            r"\bvou (?:te |lhe |voces )?bloque\w*|\bbloqueei\b|\bbloqueado\b|\bspam\b|\bdenunci\w* (?:como )?spam\b"
        ),
    ),
    (
        "opt_out.withdraw_consent",
        re.compile(
            r"\b(?:revogo|retiro) (?:o |meu )?consentimento\b|\bnao autori\w* (?:o )?(?:envio|contato|mensage\w*|voces)|\bnao (?:dei|tenho|autorizei) autoriza\w*"
        ),
    ),
    (
        "opt_out.enough_messages",
        re.compile(
            r"\bchega (?:de|dessas?) (?:mensage\w*|cobranc\w*|msg)\b|\bcansei (?:dessas?|de) (?:mensage\w*|cobranc\w*)\b"
        ),
    ),
    (
        "opt_out.quero_sair",
        re.compile(
            r"\bquero sair(?: (?:disso|daqui|dessa|desse|dessas mensagens|dessa lista|da lista))?$|\bsai fora\b"
        ),
    ),
]
_CAPS_COMMAND = re.compile(r"\b(PARAR|PARE|SAIR|STOP|CANCELAR|DESCADASTRAR)\b")

_DECEASED_GUARDS = [
    re.compile(r"\b(?:mort[oa]s?|morrendo|morrer|morro) de\b"),
    re.compile(
        r"\b(?:celular|bateria|telefone|internet|sinal|carro|moto|planta|cachorro|gato|assunto|conversa) (?:\w+ )?morreu\b"
    ),
    re.compile(r"\bameaca de morte\b"),
]
_DECEASED = [
    ("deceased.faleceu", re.compile(r"\bfal[ec]s?[ec]\w*|\bfalecel\b|\bfaleceo\b")),
    ("deceased.morreu", re.compile(r"\bmorre[uo]l?\b|\bja morreu\b|\bmorreram\b")),
    ("deceased.obito", re.compile(r"\bobito\b")),
    (
        "deceased.morto",
        re.compile(
            r"\b(?:ta|esta|e|ja) mort[oa]\b|\bpessoa morta\b|\bgente morta\b|\bum morto\b|\bdefunto\b"
        ),
    ),
    (
        "deceased.no_longer_with_us",
        re.compile(
            r"\bnao (?:esta|ta) mais (?:entre nos|aqui com a gente|vivo|viva)\b|\bnao (?:esta|ta|e) (?:mais )?viv[oa]\b|\bnao vive mais\b|\bmais vivo\b"
        ),
    ),
    ("deceased.estate", re.compile(r"\bespolio\b|\binventari\w*\b|\bheranca\b|\bherdeir\w*\b")),
    (
        "deceased.lost_relative",
        re.compile(
            r"\bperdi (?:o |a )?(?:meu|minha) (?:pai|mae|marido|esposa|esposo|mulher|filho|filha|irmao|irma|avo|vo|companheir\w|noiv\w|sogr\w|tio|tia)\b|\b(?:ele|ela) partiu\b(?! pra)|\bdescansou\b|\b(?:ta|esta) (?:no ceu|com deus)\b|\bmorre junto\b"
        ),
    ),
    (
        "deceased.finado",
        re.compile(
            r"\bfinad[oa]\b|\bviuv[oa]\b|\bdescanse em paz\b|\bdeus (?:o|a) tenha\b|\bdeus levou\b|\bse foi\b|\bmissa de (?:7|setimo)\b|\bvelorio\b|\benterr\w+\b|\bde luto\b"
        ),
    ),
]

_COMPLAINT = [
    ("complaint.procon", re.compile(r"\bprocon\b")),
    ("complaint.lawyer", re.compile(r"\badvogad\w*\b|\bdefensori\w*\b|\bdefensor\w* public\w*\b")),
    (
        "complaint.lawsuit",
        re.compile(
            r"\bprocess(?:ar|o|ei|aram|arei|ados?)\b(?! de (?:negociacao|pagamento))|\bjusti[cs]a\b|\bjuiz\w*\b|\btribunal\b|\bpequenas causas\b|\bsub judice\b|\bliminar\b|\bsentenca\b|\bjudicia\w*\b|\brevisional\b"
        ),
    ),
    (
        "complaint.lawsuit",
        re.compile(
            r"\b(?:entrar|entrei|entro) com (?:uma )?acao\b|\bacao (?:judicial|revisional)\b|\bacionar\b"
        ),
    ),
    (
        "complaint.consumer_bodies",
        re.compile(
            r"\breclame ?aqui\b|\bconsumidor ?\.? ?gov\b|\bbanco central\b|\bbacen\b|\bouvidoria\b|\bministerio public\w*\b|\banpd\b|\banatel\b"
        ),
    ),
    (
        "complaint.damages",
        re.compile(
            r"\bdanos? mora\w*\b|\bindeniza\w*\b|\b(?:devolu\w*|devolver|restitui\w*|receber|pedir) (?:\w+ )?em dobro\b"
        ),
    ),
    (
        "complaint.unlawful",
        re.compile(
            r"\bilegal\b|\b(?:contra|descumprindo|fere|ferindo|proibe) a lei\b|\ba lei (?:diz|proibe|me protege)\b|\b(?:medidas|providencias) (?:legais|cabiveis)\b|\bjulgad[oa]\b"
        ),
    ),
    (
        "complaint.report",
        re.compile(
            r"\bdenunci\w*\b|\bimprensa\b|\bexpo(?:ndo|r|sto|sta|ram)\b|\b(?:registrar|dar|fazer|abrir) (?:uma )?queixa\b|\b(?:como|servir de) prova\b|\b(?:vou fazer|fiz|fazer) (?:um )?(?:bo|boletim de ocorrencia)\b(?! d[oe] (?:roubo|furto|perda))"
        ),
    ),
    (
        "complaint.abuse",
        re.compile(
            r"\bcobranca (?:abusiva|vexatoria|ilegal)\b|\bassedi\w*\b|\bextors\w*\b|\bconstrang\w*\b|\be crime\b|\bagiotagem\b|\bameac\w*\b"
        ),
    ),
    (
        "complaint.consumer_law",
        re.compile(
            r"\bcdc\b|\bcodigo de defesa do consumidor\b|\blei do superendividamento\b|\bsuperendividamento\b|\brepactuac\w*\b|\bminimo existencial\b|\b14\.?181\b|\blgpd\b"
        ),
    ),
    (
        "complaint.police",
        re.compile(
            r"\bpolicia\b|\bdelegacia\b|\bboletim de ocorrencia contra\b|\bdar (?:queixa|parte)\b|\bdei parte\b|\bqueixa formal\b|\breclamacao formal\b|\bextrajudicial\b"
        ),
    ),
]
_COMPLAINT_GUARDS = [
    re.compile(r"\bem processamento\b|\bprocessando\b"),
    re.compile(r"\bfaz justica\b"),
]

_SIGNAL_OVER_INDEBTED = re.compile(
    r"\bsuperendivid\w*|\bendividad\w* ate o pescoco\b|\bafogad\w* em dividas\b"
)


def _blank(text: str, guards: list[re.Pattern[str]]) -> str:
    for guard in guards:
        text = guard.sub(lambda m: " " * len(m.group(0)), text)
    return text


def _is_bare_command(text: str) -> bool:
    words = [w for w in text.split() if w not in _FILLER]
    return len(words) >= 1 and all(re.fullmatch(_STOP_WORDS, w) for w in words) and len(words) <= 3


def opt_out_rule(raw: str, text: str) -> str | None:
    """The name of the opt-out rule that fires, or None. ``raw`` is the original message, ``text`` normalised."""
    if _is_bare_command(text):
        return "opt_out.bare_command"
    guarded = _blank(text, _OPT_OUT_GUARDS)
    caps = _CAPS_COMMAND.search(strip_accents(raw))
    # A shouted command inside a normal sentence ("ok PARAR") is the template's opt-out keyword,
    # unless a guard explains it away ("vou PARAR de pagar").
    if caps and not raw.isupper() and re.search(rf"\b{caps.group(1).lower()}\b", guarded):
        return "opt_out.caps_command"
    for name, pattern in _OPT_OUT:
        if pattern.search(guarded):
            return name
    if (
        caps
        and re.match(r"^\W*(PARAR|PARE|SAIR|STOP)\b", strip_accents(raw))
        and re.search(rf"\b{caps.group(1).lower()}\b", guarded)
    ):
        return "opt_out.caps_command"
    return None


def fire(raw: str, text: str) -> list[RuleHit]:
    """Every guarded-intent rule that fires, most costly miss first (opt-out, deceased, legal)."""
    hits: list[RuleHit] = []
    opt_out = opt_out_rule(raw, text)
    if opt_out:
        hits.append(RuleHit(Intent.OPT_OUT, opt_out))
    deceased_text = _blank(text, _DECEASED_GUARDS)
    for name, pattern in _DECEASED:
        if pattern.search(deceased_text):
            hits.append(RuleHit(Intent.DECEASED, name))
            break
    complaint_text = _blank(text, _COMPLAINT_GUARDS)
    for name, pattern in _COMPLAINT:
        if pattern.search(complaint_text):
            hits.append(RuleHit(Intent.COMPLAINT_LEGAL, name))
            break
    return hits


def signals(text: str) -> list[str]:
    """Tags that do not change the intent but that compliance wants to see (CDC-12 over-indebtedness)."""
    return ["over_indebted"] if _SIGNAL_OVER_INDEBTED.search(text) else []
