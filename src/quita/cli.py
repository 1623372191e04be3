"""The ``quita`` command. Each capability owns its sub-commands in its own ``cli.py``."""

from __future__ import annotations

import typer

from quita.bench.cli import app as bench_app
from quita.bot.cli import app as bot_app
from quita.bot.cli import handoff_app
from quita.cadence.cli import app as cadence_app
from quita.compliance.cli import app as compliance_app
from quita.dispatch.cli import register as register_dispatch
from quita.importing.cli import register as register_import
from quita.kit.cli import db_app
from quita.payments.cli import app as payments_app
from quita.payments.cli import boleto_app, cnab_app, pix_app
from quita.portfolio.cli import register as register_portfolio
from quita.server.cli import register as register_server
from quita.simulator.cli import register as register_simulator
from quita.tenant.cli import apikey_app, creditor_app, tenant_app
from quita.whatsapp.channel_cli import channel_app, evidence_app, templates_app
from quita.whatsapp.cli import wa_app

app = typer.Typer(no_args_is_help=True, help="Quita: cobrança pelo WhatsApp, dentro da lei.", pretty_exceptions_enable=False)
app.add_typer(db_app, name="db")
app.add_typer(tenant_app, name="tenant")
app.add_typer(creditor_app, name="creditor")
app.add_typer(apikey_app, name="apikey")
app.add_typer(bench_app, name="bench")
app.add_typer(bot_app, name="bot")
app.add_typer(handoff_app, name="handoff")
app.add_typer(compliance_app, name="compliance")
app.add_typer(payments_app, name="payments")
app.add_typer(boleto_app, name="boleto")
app.add_typer(pix_app, name="pix")
app.add_typer(cnab_app, name="cnab")
app.add_typer(wa_app, name="wa")
app.add_typer(channel_app, name="channel")
app.add_typer(templates_app, name="templates")
app.add_typer(evidence_app, name="evidence")
register_import(app)
register_portfolio(app)
register_server(app)
register_simulator(app)
register_dispatch(app)
app.add_typer(cadence_app, name="cadence")


def main() -> None:
    app()
