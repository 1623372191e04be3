"""Imports every model module so ``Base.metadata`` is complete (Alembic and tests need all tables)."""

from quita.audit import models as audit_models
from quita.importing import models as importing_models
from quita.portfolio import models as portfolio_models
from quita.tenant import models as tenant_models

__all__ = ["audit_models", "importing_models", "portfolio_models", "tenant_models"]
