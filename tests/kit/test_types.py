from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quita.kit.db import Database
from quita.kit.db.types import Money, UTCDateTime

metadata = sa.MetaData()
probe = sa.Table("probe", metadata, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("amount", Money), sa.Column("at", UTCDateTime))


@pytest.fixture
def probe_db(database: Database) -> Iterator[Database]:
    metadata.create_all(database.engine)
    yield database
    metadata.drop_all(database.engine)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cents=st.integers(min_value=-(10**13), max_value=10**13))
def test_money_round_trips_exactly(probe_db: Database, cents: int) -> None:
    amount = Decimal(cents) / 100
    with probe_db.engine.begin() as conn:
        conn.execute(probe.delete())
        conn.execute(probe.insert().values(id=1, amount=amount))
        assert conn.execute(sa.select(probe.c.amount)).scalar_one() == amount


def test_money_refuses_float_and_fractions_of_a_cent(probe_db: Database) -> None:
    with pytest.raises(sa.exc.StatementError, match="Decimal"), probe_db.engine.begin() as conn:
        conn.execute(probe.insert().values(id=1, amount=1.5))
    with pytest.raises(sa.exc.StatementError, match="two decimal"), probe_db.engine.begin() as conn:
        conn.execute(probe.insert().values(id=2, amount=Decimal("1.005")))


def test_times_are_stored_in_utc_and_come_back_aware(probe_db: Database) -> None:
    brt = dt.timezone(dt.timedelta(hours=-3))
    at = dt.datetime(2026, 11, 23, 20, 0, tzinfo=brt)
    with probe_db.engine.begin() as conn:
        conn.execute(probe.insert().values(id=1, at=at))
        stored = conn.execute(sa.select(probe.c.at)).scalar_one()
    assert stored == at and stored.tzinfo is not None and stored.utcoffset() == dt.timedelta(0)
    with pytest.raises(sa.exc.StatementError, match="naive"), probe_db.engine.begin() as conn:
        conn.execute(probe.insert().values(id=2, at=dt.datetime(2026, 1, 1)))
