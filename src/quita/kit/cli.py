"""CLI plumbing shared by every capability: the database handle, error reporting, ``quita db``."""

from __future__ import annotations

import functools
import getpass
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from quita.config import get_settings
from quita.kit.db import Database
from quita.kit.errors import QuitaError

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)

db_app = typer.Typer(no_args_is_help=True, help="Banco de dados: migrações.")


def open_database(url: str | None = None) -> Database:
    return Database(url or get_settings().database_url)


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no passwd entry in some containers
        return "cli"


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]erro:[/] {message}", highlight=False)
    return typer.Exit(code)


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turns domain errors into a one-line message and exit status 2 instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except QuitaError as exc:
            raise fail(exc.message) from None

    return wrapper


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads")) -> None:
    """Aplica as migrações pendentes ao banco configurado em QUITA_DATABASE_URL."""
    from quita.kit.db.migrate import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    console.print(f"banco atualizado ({revision})")
