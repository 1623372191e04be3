"""A debtor's phone in the browser: a WhatsApp-like chat page over the simulator's control API."""
