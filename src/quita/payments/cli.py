"""Command line for payments: ``quita boleto``, ``quita pix``, ``quita cnab``, ``quita payments``."""

import typer

app = typer.Typer(no_args_is_help=True, help="Payments and reconciliation.")
boleto_app = typer.Typer(no_args_is_help=True, help="Boleto: encode, decode, PDF.")
pix_app = typer.Typer(no_args_is_help=True, help="Pix BR Code: encode and decode.")
cnab_app = typer.Typer(no_args_is_help=True, help="CNAB bank files.")
