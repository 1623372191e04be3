"""The handoff queue over HTTP (real uvicorn on loopback) and the ``quita handoff`` commands, on both
databases: tenant isolation, API-key auth, keyset pages oldest first, assign, close back to the bot."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from quita.bot.dialog.state import ConversationState, Step
from quita.bot.models import BotConversation, HandoffItem
from quita.cli import app as cli
from quita.config import Settings, get_settings
from quita.kit.db import Database
from quita.server.app import create_app
from tests.conftest import ServerThread
from tests.factories import make_api_key, make_tenant


def human_conversation(database: Database, tenant_id: uuid.UUID, *, verified: bool, items: int) -> list[uuid.UUID]:
    """A conversation the bot handed to a person, with ``items`` queue items created a second apart."""
    start = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    with database.transaction() as session:
        state = ConversationState(step=Step.HUMAN, identity_verified=verified, identity_failures=0 if verified else 3)
        row = BotConversation(tenant_id=tenant_id, wa_conversation_id=uuid.uuid4(), state=state.to_json(),
                              step=state.step.value, version=1)
        session.add(row)
        session.flush()
        ids = []
        for n in range(items):
            item = HandoffItem(tenant_id=tenant_id, bot_conversation_id=row.id, queue="general", reason="requested",
                               status="open", created_at=start + dt.timedelta(seconds=n))
            session.add(item)
            session.flush()
            ids.append(item.id)
        return ids


def step_of(database: Database, handoff_id: uuid.UUID) -> tuple[str, int]:
    with database.transaction() as session:
        item = session.get_one(HandoffItem, handoff_id)
        row = session.get_one(BotConversation, item.bot_conversation_id)
        return row.step, ConversationState.from_json(row.state).identity_failures


@pytest.fixture
def api(database: Database, database_url: str, tmp_path: Path) -> Iterator[str]:
    settings = Settings(database_url=database_url, data_dir=tmp_path / "data")
    with ServerThread(create_app(settings, database)) as server:
        yield server.url


def test_queue_pages_assign_and_close(api: str, database: Database) -> None:
    tenant_id = make_tenant(database, "fila")
    key = make_api_key(database, "fila")
    other = make_tenant(database, "outra")
    other_key = make_api_key(database, "outra")
    first, second, third = human_conversation(database, tenant_id, verified=True, items=3)
    [foreign] = human_conversation(database, other, verified=True, items=1)
    headers = {"Authorization": f"Bearer {key}"}

    assert httpx.get(f"{api}/api/v1/handoffs").status_code == 401
    page = httpx.get(f"{api}/api/v1/handoffs", params={"limit": 2}, headers=headers).json()
    assert [i["id"] for i in page["items"]] == [str(first), str(second)]
    rest = httpx.get(f"{api}/api/v1/handoffs", params={"limit": 2, "cursor": page["next_cursor"]},
                     headers=headers).json()
    assert [i["id"] for i in rest["items"]] == [str(third)] and rest["next_cursor"] is None

    assigned = httpx.post(f"{api}/api/v1/handoffs/{first}/assign", json={"agent": "Ana"}, headers=headers)
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["status"] == "assigned" and assigned.json()["assigned_to"] == "Ana"
    only = httpx.get(f"{api}/api/v1/handoffs", params={"status": "assigned"}, headers=headers).json()["items"]
    assert [i["id"] for i in only] == [str(first)]
    assert httpx.get(f"{api}/api/v1/handoffs", params={"status": "nope"}, headers=headers).status_code == 422
    assert httpx.post(f"{api}/api/v1/handoffs/{first}/assign", json={}, headers=headers).status_code == 422

    # Another tenant's item does not exist for this key, and this tenant's items do not exist for the other.
    assert httpx.post(f"{api}/api/v1/handoffs/{foreign}/assign", json={"agent": "x"},
                      headers=headers).status_code == 404
    assert httpx.post(f"{api}/api/v1/handoffs/{first}/close",
                      headers={"Authorization": f"Bearer {other_key}"}).status_code == 404

    # Closing one item while two others still hold the conversation keeps the bot silent.
    assert httpx.post(f"{api}/api/v1/handoffs/{first}/close", headers=headers).status_code == 200
    assert step_of(database, first)[0] == Step.HUMAN.value
    for item in (second, third):
        closed = httpx.post(f"{api}/api/v1/handoffs/{item}/close", json={"agent": "Ana"}, headers=headers)
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert step_of(database, first)[0] == Step.MENU.value  # identity confirmed: back to the menu
    again = httpx.post(f"{api}/api/v1/handoffs/{first}/assign", json={"agent": "Ana"}, headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "handoff_closed"


@pytest.fixture
def cli_db(database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("QUITA_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database
    get_settings.cache_clear()


def test_cli_list_assign_close(cli_db: Database) -> None:
    tenant_id = make_tenant(cli_db, "fila-cli")
    make_tenant(cli_db, "outra-cli")
    [item] = human_conversation(cli_db, tenant_id, verified=False, items=1)
    runner = CliRunner()

    listed = runner.invoke(cli, ["handoff", "list", "--tenant", "fila-cli", "--status", "open"])
    assert listed.exit_code == 0, listed.output
    assert str(item)[:8] in listed.output
    assert str(item)[:8] not in runner.invoke(cli, ["handoff", "list", "--tenant", "outra-cli"]).output

    wrong = runner.invoke(cli, ["handoff", "assign", str(item), "--tenant", "outra-cli", "--agent", "Bia"])
    assert wrong.exit_code == 2 and "não encontrado" in wrong.output
    assigned = runner.invoke(cli, ["handoff", "assign", str(item), "--tenant", "fila-cli", "--agent", "Bia"])
    assert assigned.exit_code == 0 and "Bia" in assigned.output
    closed = runner.invoke(cli, ["handoff", "close", str(item), "--tenant", "fila-cli"])
    assert closed.exit_code == 0, closed.output
    # Identity never confirmed: the bot starts over at the identity check, with a fresh count of attempts.
    assert step_of(cli_db, item) == (Step.AWAITING_IDENTITY.value, 0)
