"""Channel secrets are encrypted at rest and never leave through the API."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from quita.kit import secrets
from quita.kit.db import Database
from quita.server.app import create_app
from quita.whatsapp import service
from quita.whatsapp.models import WhatsAppChannel
from tests.factories import make_api_key
from tests.whatsapp.conftest import Setup
from tests.whatsapp.payloads import SECRET


def test_embedded_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    key = secrets.load_or_create_key(tmp_path)
    assert secrets.load_or_create_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600


def test_a_changed_key_is_reported_not_garbled(monkeypatch: pytest.MonkeyPatch) -> None:
    token = secrets.encrypt("segredo")
    assert secrets.decrypt(token) == "segredo"
    from cryptography.fernet import Fernet

    monkeypatch.setenv("QUITA_SECRET_KEY", Fernet.generate_key().decode())
    with pytest.raises(secrets.SecretKeyError):
        secrets.decrypt(token)


def test_secrets_are_stored_encrypted_and_the_api_never_returns_them(database: Database, wa: Setup) -> None:
    with database.transaction() as session:
        channel = session.scalars(select(WhatsAppChannel)).one()
        assert SECRET not in channel.app_secret_enc and channel.access_token_enc != "tok"
        assert service.app_secret(channel) == SECRET
    key = make_api_key(database, "acme")
    with TestClient(create_app(database=database)) as client:
        response = client.get("/api/v1/channels", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["phone_number_id"] == "100000000000001"
    text = response.text
    assert SECRET not in text and "tok" not in text and "_enc" not in text
