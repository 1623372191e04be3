"""The group-commit writers on their own: what one batch stores, duplicates inside one batch and across
batches, and that a request's future resolves only once its row is committed."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from quita.kit.db import Database
from quita.whatsapp.models import WebhookDelivery
from quita.whatsapp.webhooks import AsyncPgWriter, ChannelKeys, DeliveryWriter, Writer, _chunks, _insert_sql
from tests.whatsapp.conftest import Setup


def _keys(wa: Setup) -> ChannelKeys:
    return ChannelKeys(wa.channel_id, wa.tenant_id, "secret", "verify")


def _rows(database: Database) -> dict[str, WebhookDelivery]:
    with database.transaction() as session:
        return {d.dedupe_key: d for d in session.scalars(select(WebhookDelivery))}


async def _store_concurrently(writer: Writer, keys: ChannelKeys, items: list[tuple[str, bytes, str, str | None]],
                              database: Database) -> None:
    async def one(key: str, body: bytes, state: str, problem: str | None) -> None:
        await writer.store(body, keys, key, state=state, problem=problem)
        assert key in _rows(database)  # acknowledged => committed and visible to another connection

    await asyncio.gather(*(one(*item) for item in items))


def test_a_batch_stores_every_column_and_keeps_one_row_per_key(database: Database, wa: Setup) -> None:
    keys = _keys(wa)
    items = [(f"{n:064x}", b'{"n": %d}' % n, "received", None) for n in range(40)]
    items.append((f"{3:064x}", b'{"n": 3}', "received", None))  # the same delivery twice in flight
    items.append(("f" * 64, b"\x00not json", "unparseable", "corpo assinado n\u00e3o \u00e9 JSON"))
    before = dt.datetime.now(dt.UTC)

    async def main() -> None:
        writer: Writer = DeliveryWriter(database) if database.is_sqlite else AsyncPgWriter(database)
        try:
            await _store_concurrently(writer, keys, items, database)
            await _store_concurrently(writer, keys, items[:5], database)  # redeliveries in later batches
        finally:
            if isinstance(writer, AsyncPgWriter):
                await writer.aclose()
            else:
                writer.close()

    asyncio.run(main())
    rows = _rows(database)
    assert len(rows) == 41
    for key, body, state, problem in items:
        row = rows[key]
        assert (row.body, row.state, row.problem) == (body, state, problem)
        assert row.body_sha256 == hashlib.sha256(body).hexdigest()
        assert (row.tenant_id, row.channel_id) == (wa.tenant_id, wa.channel_id)
        assert row.id.version == (7 if database.is_sqlite else 4)  # SQLite: time-ordered (kit.ids); PostgreSQL: gen_random_uuid()
        assert row.created_at >= before - dt.timedelta(seconds=1)
        assert (row.processed_at is not None) == (state != "received")


@pytest.mark.parametrize("count", [0, 1, 2, 41, 63, 64, 65, 127, 500])
def test_sqlite_batches_are_cut_into_a_few_statement_sizes(count: int) -> None:
    chunks = _chunks(count)
    assert sum(size for _start, size in chunks) == count
    assert [start for start, _size in chunks] == [sum(size for _s, size in chunks[:n]) for n in range(len(chunks))]
    assert [size for _start, size in chunks] == sorted((size for _start, size in chunks), reverse=True)
    assert len({size for _start, size in chunks}) <= 7  # one cached statement text per size
    assert all(_insert_sql("?", size).count("?") == 10 * size for _start, size in chunks)


def test_sqlite_writer_counts_only_the_rows_it_inserted(database: Database, wa: Setup) -> None:
    """A batch of 41 (three statements: 32 + 8 + 1 rows) with keys already stored: those are not counted,
    so the pump is nudged only for new webhooks."""
    if not database.is_sqlite:
        pytest.skip("the threaded writer is SQLite's")
    from quita.whatsapp.webhooks import _Pending

    keys = _keys(wa)
    writer = DeliveryWriter(database)
    try:
        def batch(numbers: range) -> list[_Pending]:
            return [_Pending(b'{"n": %d}' % n, f"{n:064x}", keys.channel_id, keys.tenant_id, "received", None,
                             None, None) for n in numbers]  # type: ignore[arg-type]

        connection = writer.connect()
        try:
            assert writer._write(connection, batch(range(10)))[0] == 10
            assert writer._write(connection, batch(range(41)))[0] == 31
        finally:
            writer.release(connection)
    finally:
        writer.close()
    assert len(_rows(database)) == 41


def test_postgresql_both_connections_at_once_store_every_row_once(database: Database, wa: Setup) -> None:
    """``overflow=1, slow=0``: the second connection starts a batch whenever one is in flight."""
    if database.is_sqlite:
        pytest.skip("the async writer is PostgreSQL's")
    keys = _keys(wa)
    items = [(f"{n:064x}", b'{"n": %d}' % n, "received", None) for n in range(300)]

    async def main() -> None:
        writer = AsyncPgWriter(database, overflow=1, slow=0.0)
        try:
            for start in range(0, 300, 60):
                await _store_concurrently(writer, keys, items[start:start + 60] + items[:3], database)
        finally:
            await writer.aclose()

    asyncio.run(main())
    assert sorted(_rows(database)) == sorted(key for key, *_ in items)


def test_postgresql_writer_keeps_connection_options_with_spaces(database: Database, wa: Setup) -> None:
    """A database URL whose ``options`` hold two settings (a space between them) still reaches the right schema
    from the writer's own psycopg connections."""
    if database.is_sqlite:
        pytest.skip("the async writer is PostgreSQL's")
    with_timeout = Database(f"{database.url}%20-cstatement_timeout%3D4321")
    items = [(f"{n:064x}", b'{"n": %d}' % n, "received", None) for n in range(5)]

    async def main() -> None:
        writer = AsyncPgWriter(with_timeout)
        try:
            await _store_concurrently(writer, _keys(wa), items, database)
        finally:
            await writer.aclose()

    try:
        asyncio.run(main())
    finally:
        with_timeout.dispose()
    assert sorted(_rows(database)) == sorted(key for key, *_ in items)


def test_postgresql_a_failed_batch_raises_to_its_requests_and_the_writer_goes_on(database: Database,
                                                                                wa: Setup) -> None:
    """A batch the database refuses (here: a state longer than its column) fails its requests (they
    answer 503, Meta retries); the writer reconnects and stores the next ones."""
    if database.is_sqlite:
        pytest.skip("the async writer is PostgreSQL's")
    keys = _keys(wa)

    async def main() -> None:
        writer = AsyncPgWriter(database)
        try:
            with pytest.raises(Exception, match="too long"):
                await writer.store(b"{}", keys, "a" * 64, state="x" * 13, problem=None)
            await writer.store(b"{}", keys, "b" * 64, state="received", problem=None)
        finally:
            await writer.aclose()

    asyncio.run(main())
    assert list(_rows(database)) == ["b" * 64]


def test_sqlite_writer_commits_are_synced_to_disk_and_the_pool_gets_normal_back(database: Database) -> None:
    if not database.is_sqlite:
        pytest.skip("SQLite's synchronous setting (PostgreSQL commits with synchronous_commit on)")
    writer = DeliveryWriter(database)
    try:
        connection = writer.connect()
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: a 200 survives a power cut
        connection.commit()
        writer.release(connection)
        with database.engine.connect() as pooled:
            assert pooled.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL, the engine's default
    finally:
        writer.close()
