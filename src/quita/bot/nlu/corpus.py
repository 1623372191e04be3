"""The labelled examples: ``data/train`` for fitting, ``data/eval`` only for measuring.

Each split holds one ``<intent>.txt`` per label, one WhatsApp message per line;
blank lines and lines starting with ``#`` are ignored. Files are validated when
read: an unknown label or an empty file is an error naming the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from quita.bot.nlu.intents import Intent

SPLITS = ("train", "eval")


class CorpusError(ValueError):
    """A data file is malformed (unknown label, empty file, missing split)."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: Intent
    source: str  # "file:line", for error messages and evaluation reports


def data_dir() -> Path:
    return Path(str(resources.files("quita.bot.nlu") / "data"))


def load_split(split: str, root: Path | None = None) -> list[Example]:
    if split not in SPLITS:
        raise CorpusError(f"unknown split {split!r}; expected one of {SPLITS}")
    folder = (root or data_dir()) / split
    if not folder.is_dir():
        raise CorpusError(f"missing data folder {folder}")
    examples: list[Example] = []
    for path in sorted(folder.glob("*.txt")):
        try:
            intent = Intent(path.stem)
        except ValueError:
            raise CorpusError(f"{path}: file name {path.stem!r} is not an intent label") from None
        lines = path.read_text(encoding="utf-8").splitlines()
        found = [
            Example(line.strip(), intent, f"{split}/{path.name}:{number}")
            for number, line in enumerate(lines, start=1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if not found:
            raise CorpusError(f"{path}: no examples")
        examples.extend(found)
    return examples


def fingerprint(root: Path | None = None) -> str:
    """A hash of the training data, so a cached model is rebuilt whenever the data changes."""
    digest = hashlib.sha256()
    folder = (root or data_dir()) / "train"
    for path in sorted(folder.glob("*.txt")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
