from __future__ import annotations

import pytest

from tests.cadence.portfolio import SECRET_KEY


@pytest.fixture(autouse=True)
def _secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUITA_SECRET_KEY", SECRET_KEY)
