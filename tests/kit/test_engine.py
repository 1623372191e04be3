"""Connection strings handed to libpq by code that connects with psycopg itself (the webhook writer)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.engine import make_url

from quita.kit.db.engine import libpq_conninfo


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # SQLAlchemy's own rendering writes this space as "+", which libpq would keep in the search path
        ("postgresql://u@db:5433/quita?options=-csearch_path%3Dbench%20-cstatement_timeout%3D5000",
         {"host": "db", "port": "5433", "user": "u", "dbname": "quita",
          "options": "-csearch_path=bench -cstatement_timeout=5000"}),
        ("postgresql://u:p%40ss%20w%27d@db/quita", {"host": "db", "user": "u", "password": "p@ss w'd", "dbname": "quita"}),
        ("postgresql:///quita?host=/var/run/postgresql&sslmode=disable",
         {"host": "/var/run/postgresql", "dbname": "quita", "sslmode": "disable"}),
    ],
)
def test_every_part_reaches_libpq_as_written(url: str, expected: dict[str, str]) -> None:
    assert conninfo_to_dict(libpq_conninfo(make_url(url))) == expected


def test_a_space_in_options_survives_a_real_connection(postgres_url: str) -> None:
    url = make_url(f"{postgres_url}%20-cstatement_timeout%3D4321")
    with psycopg.connect(libpq_conninfo(url)) as connection:
        assert connection.execute("SHOW statement_timeout").fetchone() == ("4321ms",)
        schema = url.query["options"].split("=", 1)[1].split(" ", 1)[0]  # type: ignore[union-attr]
        assert connection.execute("SHOW search_path").fetchone() == (schema,)
