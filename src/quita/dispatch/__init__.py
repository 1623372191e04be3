"""Outbox dispatcher: claims planned messages, respects Meta limits, sends, never twice."""
