"""Cadences (régua de cobrança) and the planner that turns them into outbox messages."""
