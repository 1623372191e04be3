"""Command line for the WhatsApp channel: ``quita wa ...``."""

import typer

wa_app = typer.Typer(no_args_is_help=True, help="WhatsApp Cloud API tools.")
