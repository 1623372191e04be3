from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from quita.cadence.api import router
from quita.cadence.defaults import default_mapping
from quita.kit.api import install_error_handlers
from quita.kit.db import Database
from tests.factories import make_api_key, make_tenant


def _client(database: Database) -> TestClient:
    app = FastAPI()
    app.state.database = database
    install_error_handlers(app)
    app.include_router(router)
    return TestClient(app)


def test_list_create_and_validation_errors(database: Database) -> None:
    make_tenant(database, "acme")
    headers = {"Authorization": f"Bearer {make_api_key(database, 'acme')}"}
    client = _client(database)
    assert client.get("/api/v1/cadences").status_code == 401
    listed = client.get("/api/v1/cadences", headers=headers).json()
    assert listed == {"items": [], "default_in_use": True}
    body = default_mapping() | {"name": "varejo", "priority": 5}
    created = client.post("/api/v1/cadences", json=body, headers=headers)
    assert created.status_code == 201 and created.json()["name"] == "varejo"
    listed = client.get("/api/v1/cadences", headers=headers).json()
    assert [c["name"] for c in listed["items"]] == ["varejo"] and not listed["default_in_use"]
    bad = client.post("/api/v1/cadences", json=body | {"steps": [{"at": "D+1"}]}, headers=headers)
    assert bad.status_code == 422
    assert "steps[0].template: obrigatório" in bad.json()["error"]["details"]
