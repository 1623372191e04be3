"""Command line for the WhatsApp channel: ``quita wa ...``.

Operator tools that need no database: inspect a raw webhook body, sign one like Meta does (to replay it
against a receiver), and look up how an error code is handled.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from quita.whatsapp.domain.error_codes import classify
from quita.whatsapp.domain.events import to_record
from quita.whatsapp.domain.signature import compute_signature
from quita.whatsapp.domain.webhook import NotAWebhook, parse_webhook

wa_app = typer.Typer(no_args_is_help=True, help="WhatsApp Cloud API tools.")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        typer.echo(f"erro: não foi possível ler {path}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None


@wa_app.command("parse-webhook")
def parse_webhook_command(
    file: Path = typer.Argument(..., help="Raw webhook POST body (JSON) as Meta sent it."),
) -> None:
    """Print the normalised events of one webhook body, one JSON object per line."""
    raw = _read(file)
    try:
        events = parse_webhook(raw)
    except NotAWebhook as exc:
        typer.echo(f"erro: {file} não é um webhook do WhatsApp Business: {exc}", err=True)
        raise typer.Exit(2) from None
    for event in events:
        typer.echo(json.dumps(to_record(event), ensure_ascii=False, default=str))


@wa_app.command("sign")
def sign_command(
    file: Path = typer.Argument(..., help="Raw body to sign, byte for byte."),
    app_secret: str = typer.Option(
        ..., "--app-secret", envvar="QUITA_WA_APP_SECRET", help="Meta App Secret."
    ),
) -> None:
    """Print the X-Hub-Signature-256 header value Meta would send with this body."""
    typer.echo(compute_signature(_read(file), app_secret))


@wa_app.command("classify-error")
def classify_error_command(
    code: int = typer.Argument(..., help="Cloud API error code, e.g. 131056."),
    details: str = typer.Option("", "--details", help="error_data.details, when known."),
) -> None:
    """Show what the dispatcher does with an error code."""
    result = classify(code, details or None)
    out = {
        "code": code,
        "class": result.error_class.value,
        "retry_after": result.retry_after,
        "reason": result.reason,
    }
    typer.echo(json.dumps(out, ensure_ascii=False))
