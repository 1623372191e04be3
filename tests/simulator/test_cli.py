from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from quita.simulator.cli import build_config, register


def test_build_config_merges_file_templates_and_flags(tmp_path: Path) -> None:
    config = tmp_path / "sim.yaml"
    config.write_text("throughput_mps: 200\nseed: 3\n")
    templates = tmp_path / "templates.json"
    templates.write_text(
        json.dumps(
            {
                "data": [
                    {
                        "name": "aviso",
                        "language": "pt_BR",
                        "category": "UTILITY",
                        "components": [{"type": "BODY", "text": "Oi {{1}}"}],
                    }
                ]
            }
        )
    )
    built = build_config(config, templates, {"throughput_mps": 500, "token": None})
    assert built.throughput_mps == 500
    assert built.seed == 3
    assert built.token == "sim-token"
    assert built.templates[0]["name"] == "aviso"


def test_build_config_rejects_bad_values(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        build_config(None, None, {"throughput_mps": 1001})


def test_command_is_registered() -> None:
    app = typer.Typer()
    register(app)

    @app.command("other")
    def other() -> None:
        """Keeps typer in multi-command mode."""

    result = CliRunner().invoke(app, ["simulator", "--help"])
    assert result.exit_code == 0
    assert "--webhook-url" in result.output
    assert "--app-secret" in result.output
