"""Command line for the simulator: ``quita simulator``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
import yaml

from quita.simulator.whatsapp.schemas import PhoneNumberConfig, SimConfig


def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def build_config(
    config_file: Path | None,
    templates_file: Path | None,
    overrides: dict[str, Any],
) -> SimConfig:
    """Launch configuration: file first, then the flags given on the command line."""
    data: dict[str, Any] = {}
    if config_file is not None:
        loaded = _load(config_file)
        if not isinstance(loaded, dict):
            raise typer.BadParameter(f"{config_file}: expected a mapping of settings")
        data.update(loaded)
    if templates_file is not None:
        templates = _load(templates_file)
        if isinstance(templates, dict):
            templates = templates.get("data", templates.get("templates"))
        if not isinstance(templates, list):
            raise typer.BadParameter(f"{templates_file}: expected a list of templates (or {{'data': [...]}})")
        data["templates"] = [*data.get("templates", []), *templates]
    data.update({k: v for k, v in overrides.items() if v is not None})
    return SimConfig.model_validate(data)


def register(app: typer.Typer) -> None:
    """Adds ``quita simulator`` to ``app``."""

    @app.command("simulator")
    def simulator(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
        port: int = typer.Option(8081, help="TCP port."),
        webhook_url: str | None = typer.Option(
            None, help="Where signed webhooks are posted (Quita's endpoint)."
        ),
        app_secret: str | None = typer.Option(None, help="App Secret used to sign webhooks."),
        token: str | None = typer.Option(None, help="Bearer token the Graph API accepts."),
        phone_number_id: str | None = typer.Option(None, help="Business phone number id."),
        display_phone_number: str | None = typer.Option(None, help="Business number, digits only."),
        waba_id: str | None = typer.Option(None, help="WhatsApp Business Account id."),
        throughput: int | None = typer.Option(
            None, help="Messages per second per number (1-1000, default 80)."
        ),
        status_webhooks: str | None = typer.Option(None, help="all | sampled | off"),
        seed: int | None = typer.Option(None, help="Seed for faults, read receipts and out-of-order draws."),
        config_file: Path | None = typer.Option(
            None, "--config", exists=True, help="JSON/YAML with settings."
        ),
        templates_file: Path | None = typer.Option(
            None, "--templates", exists=True, help="JSON/YAML list of message_templates bodies."
        ),
        log_level: str = typer.Option("warning", help="uvicorn log level."),
        pix_webhook_url: str | None = typer.Option(None, help="PSP: Quita's Pix webhook URL (/pix is appended)."),
        pix_webhook_secret: str | None = typer.Option(None, help="PSP: sent as X-Webhook-Secret."),
        psp_client_id: str = typer.Option("sim-client", help="PSP: OAuth client id."),
        psp_client_secret: str = typer.Option("sim-secret", help="PSP: OAuth client secret."),
        cnab_dir: Path = typer.Option(Path("psp-retornos"), help="PSP: where CNAB returns of paid boletos go."),
    ) -> None:
        """Runs the local WhatsApp Cloud API simulator (with the debtor phone page at /_sim/phone)."""
        import uvicorn

        from quita.simulator.app import create_app

        overrides: dict[str, Any] = {
            "webhook_url": webhook_url,
            "app_secret": app_secret,
            "token": token,
            "waba_id": waba_id,
            "throughput_mps": throughput,
            "status_webhooks": status_webhooks,
            "seed": seed,
        }
        if phone_number_id or display_phone_number:
            number = PhoneNumberConfig()
            overrides["phone_numbers"] = [
                {
                    "phone_number_id": phone_number_id or number.phone_number_id,
                    "display_phone_number": display_phone_number or number.display_phone_number,
                }
            ]
        config = build_config(config_file, templates_file, overrides)
        typer.echo(f"Simulador WhatsApp em http://{host}:{port}  (celular: http://{host}:{port}/_sim/phone)")
        from quita.simulator.psp.schemas import PspConfig

        psp = PspConfig(
            client_id=psp_client_id, client_secret=psp_client_secret, pix_webhook_url=pix_webhook_url,
            pix_webhook_secret=pix_webhook_secret, cnab_dir=str(cnab_dir), public_base_url=f"http://{host}:{port}/psp",
        )
        uvicorn.run(create_app(config, psp), host=host, port=port, log_level=log_level, access_log=False)
