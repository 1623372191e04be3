"""Compliance gate: every contact allowed, deferred or blocked by explicit rules, with reasons."""
