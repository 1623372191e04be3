"""Shared toolkit: database plumbing, errors, pagination, jobs. No business rules live here."""
