"""The HTTP API over a real uvicorn server on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from quita.config import Settings
from quita.kit.db import Database
from quita.server.app import create_app
from tests.conftest import ServerThread
from tests.factories import good_row, make_api_key, make_tenant, write_csv


@pytest.fixture
def api(database: Database, database_url: str, tmp_path: Path) -> Iterator[str]:
    settings = Settings(database_url=database_url, data_dir=tmp_path / "data")
    with ServerThread(create_app(settings, database)) as server:
        yield server.url


def load(database: Database, slug: str, path: Path, rows: int) -> str:
    from quita.importing.service import import_file
    from quita.tenant.service import get_tenant

    write_csv(path, [good_row(i, cpf=cpf) for i, cpf in zip(range(1, rows + 1), CPFS * 10, strict=False)])
    with database.transaction() as session:
        import_file(session, tenant_id=get_tenant(session, slug).id, path=path, actor="test")
    return make_api_key(database, slug)


CPFS = ["529.982.247-25", "123.456.789-09", "557.827.243-66"]


def test_health_needs_no_key(api: str) -> None:
    response = httpx.get(f"{api}/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/api/v1/debts", "/api/v1/debtors", "/api/v1/imports/00000000-0000-0000-0000-000000000000"])
def test_every_route_requires_a_key(api: str, path: str) -> None:
    response = httpx.get(f"{api}{path}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_api_key"
    bad = httpx.get(f"{api}{path}", headers={"Authorization": "Bearer qk_nope_nope"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_api_key"


def test_openapi_declares_every_route(api: str) -> None:
    paths = httpx.get(f"{api}/openapi.json").json()["paths"]
    assert {"/api/v1/debts", "/api/v1/debtors", "/api/v1/debtors/{debtor_id}", "/api/v1/imports"} <= set(paths)


def test_tenant_isolation(api: str, database: Database, tmp_path: Path) -> None:
    make_tenant(database, "tenant-a")
    make_tenant(database, "tenant-b")
    key_a = load(database, "tenant-a", tmp_path / "a.csv", 3)
    key_b = make_api_key(database, "tenant-b")
    a = httpx.get(f"{api}/api/v1/debts", headers={"Authorization": f"Bearer {key_a}"}).json()
    assert len(a["items"]) == 3
    b = httpx.get(f"{api}/api/v1/debts", headers={"X-API-Key": key_b}).json()
    assert b["items"] == []
    debt_id = a["items"][0]["id"]
    debtor_id = a["items"][0]["debtor_id"]
    for path in (f"/api/v1/debts/{debt_id}", f"/api/v1/debtors/{debtor_id}"):
        response = httpx.get(f"{api}{path}", headers={"X-API-Key": key_b})
        assert response.status_code == 404, path
        assert httpx.get(f"{api}{path}", headers={"X-API-Key": key_a}).status_code == 200


def test_pagination_walks_every_row_once(api: str, database: Database, tmp_path: Path) -> None:
    make_tenant(database, "acme")
    key = load(database, "acme", tmp_path / "c.csv", 23)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        body = httpx.get(f"{api}/api/v1/debts", params=params, headers={"X-API-Key": key}).json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 5 and len(seen) == 23 and len(set(seen)) == 23


def test_filters_and_detail(api: str, database: Database, tmp_path: Path) -> None:
    make_tenant(database, "acme")
    key = load(database, "acme", tmp_path / "c.csv", 6)
    h = {"X-API-Key": key}
    debtors = httpx.get(f"{api}/api/v1/debtors", params={"document": "529.982.247-25"}, headers=h).json()["items"]
    assert len(debtors) == 1
    detail = httpx.get(f"{api}/api/v1/debtors/{debtors[0]['id']}", headers=h).json()
    assert len(detail["debts"]) == 2 and detail["contacts"][0]["value"] == "maria@example.com"
    assert detail["debts"][0]["principal"] == "1234.56"  # money travels as a string, never a float
    by_id = httpx.get(f"{api}/api/v1/debts", params={"external_id": "T4"}, headers=h).json()["items"]
    assert [d["external_id"] for d in by_id] == ["T4"]
    open_debts = httpx.get(f"{api}/api/v1/debts", params={"status": "open", "limit": 500}, headers=h).json()
    assert len(open_debts["items"]) == 6


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/api/v1/debts", {"limit": 0}, "invalid_request"),
        ("/api/v1/debts", {"status": "bogus"}, "invalid_request"),
        ("/api/v1/debts", {"cursor": "!!!"}, "invalid_cursor"),
        ("/api/v1/debtors", {"document": "123"}, "invalid_document"),
        ("/api/v1/debts/not-a-uuid", {}, "invalid_request"),
        ("/api/v1/debts/00000000-0000-0000-0000-000000000000", {}, "debt_not_found"),
        ("/api/v1/nothing-here", {}, "not_found"),
    ],
)
def test_errors_are_json_with_a_stable_code(
    api: str, database: Database, path: str, params: dict[str, str], code: str
) -> None:
    make_tenant(database, "acme")
    key = make_api_key(database, "acme")
    response = httpx.get(f"{api}{path}", params=params, headers={"X-API-Key": key})
    assert response.status_code in (400, 404, 422)
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def wait_for_job(api: str, key: str, job_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body: dict[str, object] = httpx.get(f"{api}/api/v1/imports/{job_id}", headers={"X-API-Key": key}).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError("import job did not finish")


def test_upload_runs_as_a_background_job(api: str, database: Database, tmp_path: Path) -> None:
    make_tenant(database, "acme")
    key = make_api_key(database, "acme")
    path = write_csv(tmp_path / "up.csv", [good_row(1), good_row(2, cpf="111.111.111-11")])
    with path.open("rb") as handle:
        response = httpx.post(f"{api}/api/v1/imports", files={"file": ("carteira.csv", handle, "text/csv")},
                              headers={"X-API-Key": key})
    assert response.status_code == 202, response.text
    job = wait_for_job(api, key, response.json()["id"])
    assert job["status"] == "done"
    assert (job["rows_read"], job["rows_imported"], job["rows_rejected"]) == (2, 1, 1)
    assert job["has_error_report"] is True
    report = httpx.get(f"{api}/api/v1/imports/{job['id']}/errors", headers={"X-API-Key": key})
    assert report.status_code == 200 and "cpf_cnpj" in report.text
    other = make_tenant(database, "other")
    assert other
    other_key = make_api_key(database, "other")
    assert httpx.get(f"{api}/api/v1/imports/{job['id']}", headers={"X-API-Key": other_key}).status_code == 404


def test_upload_of_a_non_portfolio_fails_the_job_with_the_reason(api: str, database: Database, tmp_path: Path) -> None:
    make_tenant(database, "acme")
    key = make_api_key(database, "acme")
    response = httpx.post(f"{api}/api/v1/imports", files={"file": ("x.csv", b"a;b\n1;2\n", "text/csv")},
                          headers={"X-API-Key": key})
    job = wait_for_job(api, key, response.json()["id"])
    assert job["status"] == "failed" and "faltam as colunas obrigatórias" in str(job["error"])


def test_upload_without_file_is_rejected(api: str, database: Database) -> None:
    make_tenant(database, "acme")
    key = make_api_key(database, "acme")
    response = httpx.post(f"{api}/api/v1/imports", headers={"X-API-Key": key})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
