"""The pure dialog core: a state machine per conversation, no I/O (see docs/bot.md)."""
