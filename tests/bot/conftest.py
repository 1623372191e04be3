"""One trained NLU for the whole bot test session, cached in a temporary folder (never the user's cache)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from quita.bot.nlu.classifier import IntentClassifier, load_or_train
from quita.bot.nlu.understanding import Nlu, default_nlu


@pytest.fixture(scope="session")
def nlu_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("nlu-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QUITA_NLU_CACHE_DIR", str(directory))
        default_nlu.cache_clear()
        yield directory
        default_nlu.cache_clear()


@pytest.fixture(scope="session")
def classifier(nlu_cache: Path) -> IntentClassifier:
    return load_or_train(directory=nlu_cache)


@pytest.fixture(scope="session")
def nlu(classifier: IntentClassifier) -> Nlu:
    return Nlu(classifier)
