"""Command line for the bot capability."""

import typer

app = typer.Typer(no_args_is_help=True)
