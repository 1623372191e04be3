from __future__ import annotations

import pytest

from quita.kit.db import Database
from quita.kit.errors import Conflict, InvalidInput, Unauthorized
from quita.tenant import service
from quita.tenant.models import TenantKind
from tests.factories import make_tenant


def test_api_key_is_hashed_at_rest_and_authenticates(database: Database) -> None:
    make_tenant(database, "acme")
    with database.transaction() as session:
        key, plaintext = service.create_api_key(session, service.get_tenant(session, "acme"), name="k", actor="t")
        assert plaintext.startswith("qk_") and plaintext.split("_", 2)[2] not in key.secret_hash
    with database.transaction() as session:
        assert service.authenticate(session, plaintext).prefix == key.prefix
        for forged in (plaintext + "x", plaintext[:-1], "qk_" + key.prefix + "_", "Bearer " + plaintext, ""):
            with pytest.raises(Unauthorized):
                service.authenticate(session, forged)


def test_revoked_key_no_longer_authenticates(database: Database) -> None:
    make_tenant(database, "acme")
    with database.transaction() as session:
        tenant = service.get_tenant(session, "acme")
        key, plaintext = service.create_api_key(session, tenant, name="k", actor="t")
        service.revoke_api_key(session, tenant, key.prefix, actor="t")
    with database.transaction() as session, pytest.raises(Unauthorized):
        service.authenticate(session, plaintext)


def test_slug_and_creditor_rules(database: Database) -> None:
    with database.transaction() as session:
        with pytest.raises(InvalidInput, match="identificador"):
            service.create_tenant(session, slug="Acme Ltda", name="x", kind=TenantKind.AGENCY, actor="t")
        tenant = service.create_tenant(session, slug="acme", name="Acme", kind=TenantKind.AGENCY, actor="t")
        with pytest.raises(InvalidInput, match="CNPJ"):
            service.add_creditor(session, tenant, legal_name="X", cnpj="11.222.333/0001-82", address="Rua",
                                 city="Recife", uf="PE", actor="t")
        with pytest.raises(InvalidInput, match="endereço"):
            service.add_creditor(session, tenant, legal_name="X", cnpj="11.222.333/0001-81", address=" ",
                                 city="Recife", uf="PE", actor="t")
        creditor = service.add_creditor(session, tenant, legal_name="X", cnpj="12.ABC.345/01DE-35",
                                        address="Rua A, 1", city="Recife", uf="pe", actor="t")
        assert (creditor.cnpj, creditor.uf) == ("12ABC34501DE35", "PE")
    with database.transaction() as session, pytest.raises(Conflict):
        service.create_tenant(session, slug="acme", name="Acme", kind=TenantKind.AGENCY, actor="t")
