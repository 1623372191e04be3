"""Shared fixtures: the conformance vectors live outside the repository and are read in place."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CONFORMANCE_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance"


@pytest.fixture
def conformance_dir() -> Path:
    if not CONFORMANCE_DIR.exists():
        pytest.skip("conformance directory not available")
    return CONFORMANCE_DIR


@pytest.fixture
def load_conformance() -> Callable[[str], Any]:
    def load(name: str) -> Any:
        path = CONFORMANCE_DIR / name
        if not path.exists():
            pytest.skip(f"conformance file {name} not available")
        return json.loads(path.read_text(encoding="utf-8"))

    return load


@pytest.fixture(autouse=True)
def secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets of payment accounts are encrypted; tests use a throwaway key, never a file in the cwd."""
    from cryptography.fernet import Fernet

    monkeypatch.setenv("QUITA_SECRET_KEY", Fernet.generate_key().decode())
