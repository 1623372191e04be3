"""Text normalisation for WhatsApp Portuguese.

Debtors type without accents, stretch letters ("simmm"), and abbreviate heavily
("vc", "pq", "n"). Both the rules and the statistical model see the same
normalised text, so a rule written once matches every spelling variant.
"""

from __future__ import annotations

import re
import unicodedata

# Token-level expansions. Only unambiguous shorthand: "ter" (weekday vs verb) or
# "c" (com/você) are left alone on purpose.
ABBREVIATIONS: dict[str, str] = {
    "vc": "voce",
    "vcs": "voces",
    "q": "que",
    "pq": "porque",
    "pque": "porque",
    "porq": "porque",
    "blz": "beleza",
    "blza": "beleza",
    "td": "tudo",
    "tds": "todos",
    "hj": "hoje",
    "dps": "depois",
    "dp": "depois",
    "n": "nao",
    "ñ": "nao",
    "naum": "nao",
    "nn": "nao",
    "s": "sim",
    "ss": "sim",
    "tb": "tambem",
    "tbm": "tambem",
    "msg": "mensagem",
    "msgs": "mensagens",
    "qdo": "quando",
    "qnd": "quando",
    "qndo": "quando",
    "cmg": "comigo",
    "ctg": "contigo",
    "mt": "muito",
    "mto": "muito",
    "mts": "muitos",
    "obg": "obrigado",
    "obgd": "obrigado",
    "obgda": "obrigada",
    "vlw": "valeu",
    "pfv": "por favor",
    "pf": "por favor",
    "pfvr": "por favor",
    "plmds": "pelo amor de deus",
    "plmdds": "pelo amor de deus",
    "dnv": "de novo",
    "agr": "agora",
    "nd": "nada",
    "ngm": "ninguem",
    "qm": "quem",
    "oq": "o que",
    "oque": "o que",
    "qto": "quanto",
    "qnto": "quanto",
    "qt": "quanto",
    "msm": "mesmo",
    "kd": "cade",
    "dms": "demais",
    "eh": "e",
    "neh": "ne",
    "tô": "to",
    "tou": "to",
    "vo": "vou",
    "qro": "quero",
    "kra": "cara",
    "aq": "aqui",
    "p": "pra",
    "d": "de",
    "cel": "celular",
    "whats": "whatsapp",
    "zap": "whatsapp",
    "wpp": "whatsapp",
    "num": "numero",
    "nº": "numero",
    "prox": "proxima",
    "prox.": "proxima",
    "jah": "ja",
    "soh": "so",
}

_EXPANDED_WORDS = frozenset(word for expansion in ABBREVIATIONS.values() for word in expansion.split())
_TOKEN = re.compile(r"r\$|[a-z0-9]+(?:[.,/:@-][a-z0-9]+)*|[$%]", re.IGNORECASE)
_LONG_RUN = re.compile(r"([a-z])\1{2,}")
_FINAL_DOUBLE = re.compile(r"([a-z])\1+$")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _collapse_runs(match: re.Match[str]) -> str:
    letter = match.group(1)
    # "rr"/"ss" are real Portuguese digraphs ("carro", "isso"); other stretched letters are emphasis.
    return letter * 2 if letter in "rs" else letter


def tokens(text: str) -> list[str]:
    """Normalised tokens: casefolded, accent-free, stretched letters collapsed, abbreviations expanded."""
    # NFKD before casefolding ("𝐀" → "A" → "a") and after it ("İ" casefolds to i + combining dot).
    text = text.replace("º", "").replace("ª", "")  # ordinal marks: "1º" → "1", "2ª via" → "2 via"
    text = strip_accents(strip_accents(text).casefold())
    out: list[str] = []
    for raw in _TOKEN.findall(text):
        token = raw
        if raw not in _EXPANDED_WORDS:  # "whatsapp" is already normal; don't turn it into "whatsap"
            token = _LONG_RUN.sub(_collapse_runs, token)
            token = _FINAL_DOUBLE.sub(r"\1", token)  # no Portuguese word ends in a double letter: "sairr"
        out.extend(ABBREVIATIONS.get(token, token).split())
    return out


def normalize(text: str) -> str:
    """One space-separated string of :func:`tokens` — what rules and model read."""
    return " ".join(tokens(text))
