import typer

db_app = typer.Typer(no_args_is_help=True)
