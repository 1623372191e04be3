"""Pure portfolio rules."""
