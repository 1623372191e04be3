"""WhatsApp fixtures: a tenant with a channel, a debtor with a phone, and a fixed secret key."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.fernet import Fernet

from quita.kit.db import Database
from quita.portfolio.models import ContactKind, ContactPoint, Debtor, DocumentKind, Provenance
from quita.whatsapp import service
from tests.factories import make_tenant
from tests.whatsapp.payloads import PHONE_ID, SECRET, VERIFY, WABA_ID


@pytest.fixture(autouse=True)
def secret_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("QUITA_SECRET_KEY", key)
    yield key


@dataclass(frozen=True)
class Setup:
    tenant_id: uuid.UUID
    channel_id: uuid.UUID
    debtor_id: uuid.UUID
    contact_id: uuid.UUID


def add_debtor(database: Database, tenant_id: uuid.UUID, phone: str = "+5511987654321",
               document: str = "52998224725") -> tuple[uuid.UUID, uuid.UUID]:
    from quita.br.phones import match_key

    with database.transaction() as session:
        debtor = Debtor(tenant_id=tenant_id, name="Maria da Silva", document_kind=DocumentKind.CPF, document=document)
        session.add(debtor)
        session.flush()
        contact = ContactPoint(tenant_id=tenant_id, debtor_id=debtor.id, kind=ContactKind.PHONE, value=phone,
                               match_key=match_key(phone), provenance=Provenance.CONTRACT)
        session.add(contact)
        session.flush()
        return debtor.id, contact.id


def make_setup(database: Database, *, slug: str = "acme", phone_number_id: str = PHONE_ID,
               secret: str = SECRET, graph_url: str = "https://graph.facebook.com") -> Setup:
    tenant_id = make_tenant(database, slug)
    with database.transaction() as session:
        channel = service.create_channel(
            session, tenant_id=tenant_id, phone_number_id=phone_number_id, waba_id=WABA_ID, access_token="tok",
            app_secret=secret, verify_token=VERIFY, actor="test", graph_url=graph_url,
        )
        channel_id = channel.id
    debtor_id, contact_id = add_debtor(database, tenant_id)
    return Setup(tenant_id, channel_id, debtor_id, contact_id)


@pytest.fixture
def wa(database: Database) -> Setup:
    return make_setup(database)
