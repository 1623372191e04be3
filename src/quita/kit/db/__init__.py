from quita.kit.db.base import Base, TenantScoped, utcnow
from quita.kit.db.engine import Database, normalise_url
from quita.kit.db.enums import str_enum
from quita.kit.db.types import Money, Rate, UTCDateTime

__all__ = ["Base", "Database", "Money", "Rate", "TenantScoped", "UTCDateTime", "normalise_url", "str_enum", "utcnow"]
