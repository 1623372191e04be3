"""Self-service debtor conversation: understanding pt-BR and the dialog state machine."""
