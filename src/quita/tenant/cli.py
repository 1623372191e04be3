import typer

tenant_app = typer.Typer(no_args_is_help=True)
creditor_app = typer.Typer(no_args_is_help=True)
apikey_app = typer.Typer(no_args_is_help=True)
