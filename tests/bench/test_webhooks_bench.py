"""The webhook benchmark's pieces over real HTTP: the protocol client counts only 200s, the bare
baseline answers on the same raw layer, and every acknowledged webhook is in the database."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from quita.bench import webhooks_bench as bench
from quita.kit.db import Database
from quita.server.app import create_app
from quita.whatsapp.models import WebhookDelivery
from tests.conftest import ServerThread
from tests.whatsapp.conftest import make_setup
from tests.whatsapp.payloads import SECRET


def test_the_load_client_against_the_bare_endpoint_and_the_receiver(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUITA_SECRET_KEY", Fernet.generate_key().decode())
    make_setup(database)
    app = create_app(database=database)
    app.add_middleware(bench.BareEndpoint)
    with ServerThread(app) as server:
        port = int(server.url.rsplit(":", 1)[1])
        bodies = bench._bodies(60)
        bare = [bench._request("/_bench/bare", b, port) for b in bodies]
        assert bench._drive(port, bare, 4, 10.0)[:2] == (60, 0)
        signed = [bench._request("/webhooks/whatsapp", b, port, SECRET) for b in bodies]
        assert bench._drive(port, signed, 4, 10.0)[:2] == (60, 0)
        assert bench._drive(port, signed[:10], 2, 10.0)[:2] == (10, 0)  # redeliveries: 200, stored once
        forged = [bench._request("/webhooks/whatsapp", b, port, "not-the-secret") for b in bodies[:5]]
        assert bench._drive(port, forged, 2, 10.0)[:2] == (0, 5)
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 60
