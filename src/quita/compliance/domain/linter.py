"""Content linter for templates and any free text Quita sends (CDC-01/02/03, ID-04, AGT-02).

Patterns are written against folded text (lower case, no accents) so "SERÁ PROTESTADO" and "sera protestado"
match alike. Shouting and emoji checks look at the original text, where case and symbols survive. The list
errs on the side of flagging: a false alarm costs a human a glance, a missed threat is a crime (CDC art. 71).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from quita.br.text import fold
from quita.compliance.domain.catalog import LEGAL_BASIS
from quita.compliance.domain.ruleset import LinterRules


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    category: str
    excerpt: str
    message_pt: str

    @property
    def legal_basis(self) -> str:
        return LEGAL_BASIS[self.rule_id]

    def to_dict(self) -> dict[str, str]:
        return {
            "rule_id": self.rule_id,
            "category": self.category,
            "excerpt": self.excerpt,
            "message_pt": self.message_pt,
            "legal_basis": self.legal_basis,
        }


_PEOPLE = r"(?:empregador|empresa onde trabalha|chefe|patrao|rh|colegas?|familia|familiares|parentes|esposa|marido|filhos?|pais|mae|vizinh(?:os|anca|o|a)s?|amigos|referencias?)"
_WEEKDAYS = r"(?:segunda|terca|quarta|quinta|sexta|sabado|domingo)"

# (category, rule_id, pattern on folded text, message)
_PATTERNS: tuple[tuple[str, str, str, str], ...] = (
    # Threats of prison, police, violence or coercion.
    (
        "threat",
        "CDC-01",
        r"\b(?:pris(?:ao|ioneiro)|preso|presa|cadeia|xadrez|policia|delegacia|boletim de ocorrencia|processo criminal|crime|criminos[oa]|mandado de prisao|algemad[oa])\b",
        "Ameaça de prisão, polícia ou processo criminal.",
    ),
    (
        "threat",
        "CDC-01",
        r"\b(?:vamos|iremos|vou|vai|vao)\s+(?:te\s+)?(?:buscar|pegar|cobrar pessoalmente|ai na sua casa|ate (?:a )?sua casa|bater)\b|\bsabemos onde (?:voce|vc) mora\b|\b(?:na|ate a) sua porta\b|\bvoce vai se arrepender\b|\bvai ter consequencias\b",
        "Ameaça ou coação ao devedor.",
    ),
    (
        "threat",
        "CDC-01",
        r"\b(?:tomar|tomaremos|tomamos|levar|levaremos)\s+(?:seus?|suas?)\s+(?:bens|casa|carro|moveis)\b|\bbloque(?:ar|aremos|io d[eo])\s+(?:seu|o)\s+salario\b",
        "Ameaça de tomar bens ou salário.",
    ),
    # Ridicule, insults, shaming.
    (
        "ridicule",
        "CDC-01",
        r"\b(?:calote(?:iro|ira)s?|caloteir[oa]s?|vagabund[oa]s?|safad[oa]s?|sem[- ]vergonha|vergonh(?:a|oso|osa)|desonest[oa]s?|mau pagador|ma pagadora|picaret[ao]s?|trambiqueir[oa]s?|pilantra|golpista|velhac[oa]|irresponsavel|humilha(?:cao|nte|r))\b",
        "Linguagem que ridiculariza, insulta ou envergonha o devedor.",
    ),
    # Exposure to third parties.
    (
        "exposure",
        "ID-04",
        rf"\b(?:acionar|avisar|contatar|contactar|ligar (?:para|pro|pra)|informar|comunicar|procurar|notificar|falar com|visitar|expor a?o?s?)\s+(?:o |a |os |as )?(?:seus?|suas?|sua|teu|tua)?\s*{_PEOPLE}\b",
        "Ameaça de expor a dívida a terceiros (família, empregador, vizinhos).",
    ),
    (
        "exposure",
        "ID-04",
        rf"\b(?:seus?|suas?)\s+{_PEOPLE}\s+(?:vao|irao|ficarao|vai|ira|ficara)\s+(?:saber|sabendo|descobrir)\b|\btodos vao saber\b|\b(?:lista|mural|cadastro publico) de (?:devedores|caloteiros)\b|\b(?:divulgar|expor|publicar)\s+(?:seu nome|sua divida|a divida)\b|\bseus vizinhos\b|\bseu empregador\b",
        "Exposição da dívida a terceiros.",
    ),
    # False urgency and unreal legal steps.
    (
        "false_urgency",
        "CDC-02",
        r"\bultim[oa]\s+(?:aviso|chance|oportunidade|notificacao|contato)\b|\burgente\b|\burgencia\b|\bimediatamente\b|\bprazo final\b|\bsem mais avisos\b|\bagora ou nunca\b|\bso hoje\b",
        "Urgência falsa ou pressão ('último aviso', 'urgente', 'só hoje').",
    ),
    (
        "false_urgency",
        "CDC-02",
        rf"\b(?:protest\w*|negativ\w*|nome sujo|sujar (?:o )?seu nome|execu\w*|penhor\w*|justica|judicial\w*|advogad\w*|oficial de justica|spc|serasa)\b[^.!?\n]{{0,40}}\b(?:hoje|amanha|agora|imediat\w*|em 24 ?h(?:oras)?|em poucas horas|ainda (?:hoje|esta semana)|nest[ae] {_WEEKDAYS})\b",
        "Passo legal anunciado com prazo imediato: só é permitido se for verdadeiro (CDC art. 71).",
    ),
    (
        "false_urgency",
        "CDC-02",
        r"\b(?:hoje|amanha|agora|imediatamente)\b[^.!?\n]{0,40}\b(?:protest\w*|negativ\w*|nome sujo|execu\w*|penhor\w*|oficial de justica)\b",
        "Passo legal anunciado com prazo imediato: só é permitido se for verdadeiro (CDC art. 71).",
    ),
    # Slang and text-speak.
    (
        "slang",
        "AGT-02",
        r"(?<![\w{])(?:vc|vcs|voces?\s+tao|tb|tbm|pq|blz|vlw|flw|tmj|kk+|rs(?:rs)+|hj|qdo|qnd|msg|cmg|obg|abs|mano|mina|parca|brother|fala ai|ta ligado|sussa|firmeza|pra ja|bora|tipo assim|beleza\?)(?![\w}])",
        "Gíria ou abreviação: use português formal.",
    ),
)
_COMPILED = tuple((cat, rid, re.compile(pat), msg) for cat, rid, pat, msg in _PATTERNS)

_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u2b50\u2b55\u203c\u2049\u2763\u2764]"
)
_HOSTILE_EMOJI = frozenset("😡🤬😠👊🔪💀☠🔫💣👮🚔⚠🚨🖕")
_CAPS_WORD = re.compile(r"\b[A-ZÀ-Ý]{3,}\b")
_AMOUNT = re.compile(
    r"r\$\s*\d|\b\d{1,3}(?:\.\d{3})*,\d{2}\b|\{\{\s*(?:valor|amount|saldo|total)\w*\s*\}\}|\bboleto\b|\bpix\b|\blinha digitavel\b"
)
_CNPJ = re.compile(
    r"\b[0-9a-z]{2}\.?[0-9a-z]{3}\.?[0-9a-z]{3}/?[0-9a-z]{4}-?\d{2}\b|\{\{\s*\w*cnpj\w*\s*\}\}"
)
_ADDRESS = re.compile(
    r"\b(?:rua|r\.|av\.?|avenida|alameda|al\.|rodovia|praca|travessa|estrada|largo|quadra)\s+\S+|\{\{\s*\w*endereco\w*\s*\}\}"
)
_ACRONYMS = frozenset(
    {"CPF", "CNPJ", "PIX", "CEP", "SPC", "CET", "IOF", "LGPD", "PROCON", "SAC", "URL", "CDC", "BCB"}
)


def _shouting(text: str, rules: LinterRules) -> list[Finding]:
    findings: list[Finding] = []
    words = [w for w in _CAPS_WORD.findall(text) if w not in _ACRONYMS]
    letters = [ch for ch in text if ch.isalpha()]
    upper = sum(1 for ch in letters if ch.isupper())
    if len(words) >= 2 or (len(letters) >= 12 and upper / len(letters) > 0.6):
        findings.append(Finding("AGT-02", "shouting", " ".join(words[:4]), "Texto em CAIXA ALTA (grito)."))
    exclamations = text.count("!")
    if exclamations > rules.max_exclamations or "!!" in text:
        findings.append(
            Finding(
                "AGT-02", "shouting", "!" * min(exclamations, 5), "Excesso de pontos de exclamação (pressão)."
            )
        )
    return findings


def _emoji(text: str, rules: LinterRules) -> list[Finding]:
    found = _EMOJI.findall(text)
    hostile = [e for e in found if e in _HOSTILE_EMOJI]
    findings: list[Finding] = []
    if hostile:
        findings.append(Finding("CDC-01", "threat", "".join(hostile[:5]), "Emoji hostil ou intimidador."))
    if len(found) > rules.max_emojis:
        findings.append(
            Finding(
                "AGT-02",
                "emoji",
                "".join(found[:5]),
                f"Excesso de emojis ({len(found)}; máximo {rules.max_emojis}).",
            )
        )
    return findings


def _creditor_identification(folded: str) -> list[Finding]:
    """CDC 42-A: text that shows an amount or a way to pay must name the creditor with CNPJ and address."""
    if not _AMOUNT.search(folded):
        return []
    missing = []
    if not _CNPJ.search(folded):
        missing.append("CNPJ")
    if not _ADDRESS.search(folded):
        missing.append("endereço")
    if not missing:
        return []
    return [
        Finding(
            "CDC-03",
            "creditor_identification",
            _AMOUNT.search(folded).group(0),  # type: ignore[union-attr]
            "Mensagem com valor ou meio de pagamento sem identificação do credor: falta "
            + ", ".join(missing)
            + ".",
        )
    ]


def lint_text(text: str, rules: LinterRules) -> tuple[Finding, ...]:
    """All findings for one message text (template body or free text), in a stable order."""
    folded = fold(text)
    findings: list[Finding] = []
    spans: dict[str, list[tuple[int, int]]] = {}
    for category, rule_id, pattern, message in _COMPILED:
        for match in pattern.finditer(folded):
            taken = spans.setdefault(category, [])
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue  # the same words already reported under this category
            taken.append((start, end))
            findings.append(Finding(rule_id, category, match.group(0), message))
    findings.extend(_shouting(text, rules))
    findings.extend(_emoji(text, rules))
    findings.extend(_creditor_identification(folded))
    return tuple(findings)
