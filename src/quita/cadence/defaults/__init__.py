"""The shipped default cadence (reading packaged YAML happens here, outside the pure domain)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from quita.cadence.domain.definition import Cadence, parse_cadence


def default_mapping() -> dict[str, Any]:
    data = yaml.safe_load(resources.files(__package__).joinpath("padrao.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@lru_cache(maxsize=1)
def default_cadence() -> Cadence:
    return parse_cadence(default_mapping())
