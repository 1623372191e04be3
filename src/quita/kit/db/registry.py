"""Imports every ``quita.<capability>.models`` module so ``Base.metadata`` is complete
(Alembic autogenerate and the schema tests need every table). Discovery keeps new capabilities
from having to edit this file."""

from __future__ import annotations

import importlib
import pkgutil

import quita


def load_all_models() -> list[str]:
    loaded = []
    for module in pkgutil.iter_modules(quita.__path__):
        if not module.ispkg:
            continue
        name = f"quita.{module.name}.models"
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        loaded.append(name)
    return loaded


LOADED = load_all_models()
