"""Command line for this capability."""

import typer


def register(app: typer.Typer) -> None:
    """Adds this capability's top-level commands to ``app``."""
