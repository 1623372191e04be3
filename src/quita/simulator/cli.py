"""Command line for the simulator: ``quita simulator``."""

import typer


def register(app: typer.Typer) -> None:
    """Adds ``quita simulator`` to ``app``."""
