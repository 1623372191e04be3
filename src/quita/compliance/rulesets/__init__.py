"""Shipped rule-set data. Reading the packaged YAML happens here, outside the pure domain."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from quita.compliance.domain.ruleset import RuleSet, RuleSetError, ruleset_from_mapping, tenant_ruleset

__all__ = ["default_mapping", "default_ruleset", "load_ruleset"]


@lru_cache(maxsize=1)
def _default_text() -> str:
    return resources.files(__package__).joinpath("default.yaml").read_text(encoding="utf-8")


def default_mapping() -> dict[str, Any]:
    """A fresh copy of the default rule-set mapping (safe to mutate)."""
    data = yaml.safe_load(_default_text())
    if not isinstance(data, dict):
        raise RuleSetError("default.yaml: esperado um objeto na raiz")
    return data


@lru_cache(maxsize=1)
def default_ruleset() -> RuleSet:
    return ruleset_from_mapping(default_mapping())


def load_ruleset(overrides: Mapping[str, Any] | None = None) -> RuleSet:
    """Defaults merged with a tenant's overrides (already parsed from YAML/JSON), validated."""
    if not overrides:
        return default_ruleset()
    return tenant_ruleset(default_mapping(), overrides)
