"""Self-service debtor conversation: understanding pt-BR and the dialog state machine.

Importing the package subscribes the bot to inbound WhatsApp messages (``quita.kit.db.registry`` imports
every capability's models, hence this package).
"""

from quita.bot.hooks import register as _register

_register()
