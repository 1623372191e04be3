"""Outbox dispatcher: claims planned messages, respects Meta's limits, sends, never twice.

Importing the package subscribes the cancellation handlers (``quita.kit.db.registry`` imports every
capability's models at start-up, so they are always in place before a debt can change status).
"""

from quita.dispatch.handlers import register as _register

_register()
