import typer

app = typer.Typer(no_args_is_help=True, help="Benchmarks: each prints a table with a baseline measured in the same run.")
