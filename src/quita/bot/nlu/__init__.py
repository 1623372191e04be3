"""Understanding Portuguese as debtors type it on WhatsApp: intents, rules for costly misses, entities.

Entry point: :func:`understand` (or :class:`Nlu` with an explicit classifier).
Everything runs offline from the bundled ``data/train`` files; nothing is downloaded.
"""

from quita.bot.nlu.dates import DateMention
from quita.bot.nlu.entities import AmountMention, AmountRole, Entities
from quita.bot.nlu.intents import Intent
from quita.bot.nlu.understanding import Nlu, Understanding, default_nlu, understand

__all__ = [
    "AmountMention",
    "AmountRole",
    "DateMention",
    "Entities",
    "Intent",
    "Nlu",
    "Understanding",
    "default_nlu",
    "understand",
]
