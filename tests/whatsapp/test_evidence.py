"""The conversation record: append-only in the database, and any hand edit is found by verify."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from quita.kit.db import Database
from quita.whatsapp import evidence, service
from quita.whatsapp.domain.chain import GENESIS, StoredLink, content_hash, first_broken_link, link_hash
from tests.whatsapp.conftest import Setup


def record_three(database: Database, wa: Setup) -> None:
    for n in range(3):
        with database.transaction() as session:
            service.record_outbound(
                session, tenant_id=wa.tenant_id, channel_id=wa.channel_id, contact_id=wa.contact_id,
                debtor_id=wa.debtor_id, message_id=uuid.uuid4(), wamid=f"wamid.ev{n}", kind="text",
                body={"to": "5511987654321", "text": {"body": f"mensagem {n}"}}, actor="agent:ana",
            )


def reports(database: Database) -> list[evidence.ChainReport]:
    with database.transaction() as session:
        return list(evidence.verify(session))


def test_a_fresh_chain_verifies(database: Database, wa: Setup) -> None:
    record_three(database, wa)
    [report] = reports(database)
    assert report.ok and report.entries == 3


def test_the_database_refuses_updates_and_deletes(database: Database, wa: Setup) -> None:
    record_three(database, wa)
    with database.transaction() as session:
        service.store_status(session, tenant_id=wa.tenant_id, channel_id=wa.channel_id, delivery_id=None,
                             wamid="wamid.ev0", status="sent", callback_data=None, recipient_id=None,
                             occurred_at=None, errors=None, pricing=None, conversation=None)
    for statement in ("UPDATE conversation_entries SET actor = 'bot'", "DELETE FROM conversation_entries",
                      "UPDATE whatsapp_status_events SET status = 'read'", "DELETE FROM whatsapp_status_events"):
        with pytest.raises(DBAPIError), database.transaction() as session:
            session.execute(sa.text(statement))
    assert reports(database)[0].ok


def _tamper(database: Database, *statements: str) -> None:
    """Runs ``statements`` with the append-only triggers dropped (as a database owner could), in one
    transaction that puts the triggers back (the PostgreSQL schema is shared by the session)."""
    with database.engine.begin() as conn:
        if database.is_sqlite:
            conn.execute(sa.text("DROP TRIGGER conversation_entries_no_update"))
            conn.execute(sa.text("DROP TRIGGER conversation_entries_no_delete"))
        else:
            conn.execute(sa.text("DROP TRIGGER conversation_entries_append_only ON conversation_entries"))
        for statement in statements:
            conn.execute(sa.text(statement))
        if not database.is_sqlite:
            conn.execute(sa.text("CREATE TRIGGER conversation_entries_append_only BEFORE UPDATE OR DELETE ON "
                                 "conversation_entries FOR EACH ROW EXECUTE FUNCTION quita_refuse_change()"))


def test_a_hand_edited_row_is_detected_and_named(database: Database, wa: Setup) -> None:
    record_three(database, wa)
    with database.engine.begin() as conn:
        target = conn.execute(sa.text("SELECT id FROM conversation_entries WHERE seq = 2")).scalar_one()
    _tamper(database, "UPDATE conversation_entries SET actor = 'bot' WHERE seq = 2")
    [report] = reports(database)
    assert report.broken is not None and report.broken.seq == 2
    assert report.broken.ref.replace("-", "") == str(target).replace("-", "")
    assert "edited" in report.broken.reason

    from quita.cli import app
    from quita.config import get_settings

    get_settings.cache_clear()  # settings are read once per process; this run points at the test database
    try:
        result = CliRunner().invoke(app, ["evidence", "verify"], env={"QUITA_DATABASE_URL": database.url})
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert "elo 2" in result.output


def test_deleting_the_last_entry_is_detected(database: Database, wa: Setup) -> None:
    record_three(database, wa)
    _tamper(database, "DELETE FROM conversation_entries WHERE seq = 3")
    [report] = reports(database)
    assert report.broken is not None and "removed" in report.broken.reason


def test_chain_links_detect_deletion_in_the_middle() -> None:
    links = []
    prev = GENESIS
    for seq in (1, 2, 3):
        fields = {"seq": seq, "text": f"m{seq}"}
        own = content_hash(fields)
        links.append(StoredLink(seq, fields, prev, own, link_hash(prev, own), f"e{seq}"))
        prev = link_hash(prev, own)
    assert first_broken_link(links) is None
    broken = first_broken_link([links[0], links[2]])
    assert broken is not None and broken.ref == "e3"
