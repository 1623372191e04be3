"""Fake WhatsApp Cloud API (Graph API dialect) with a control API for tests, demos and benchmarks."""
