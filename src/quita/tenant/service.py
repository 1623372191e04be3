"""Tenants, creditors and API keys. Services flush; the caller's unit of work commits."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from quita.audit import service as audit
from quita.br.documents import InvalidDocument, normalise_cnpj
from quita.br.geo import normalise_uf
from quita.kit.db import utcnow
from quita.kit.errors import Conflict, InvalidInput, NotFound, Unauthorized
from quita.tenant.models import ApiKey, Creditor, Tenant, TenantKind

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
KEY_PREFIX = "qk_"


def create_tenant(session: Session, *, slug: str, name: str, kind: TenantKind, actor: str) -> Tenant:
    if not SLUG_RE.match(slug):
        raise InvalidInput(
            f"identificador de tenant inválido: {slug!r} (use letras minúsculas, números e hífen; 2 a 63 caracteres)",
            code="invalid_slug",
        )
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise Conflict(f"já existe um tenant com o identificador {slug!r}", code="tenant_exists")
    if not name.strip():
        raise InvalidInput("o nome do tenant é obrigatório", code="invalid_name")
    tenant = Tenant(slug=slug, name=name.strip(), kind=kind)
    session.add(tenant)
    session.flush()
    audit.record(
        session, tenant_id=tenant.id, actor=actor, action="tenant.created", entity_type="tenant",
        entity_id=tenant.id, after={"slug": slug, "name": tenant.name, "kind": kind},
    )
    return tenant


def get_tenant(session: Session, slug_or_id: str) -> Tenant:
    try:
        tenant_id = uuid.UUID(slug_or_id)
    except ValueError:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug_or_id))
    else:
        tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {slug_or_id!r} não encontrado", code="tenant_not_found")
    return tenant


def add_creditor(
    session: Session,
    tenant: Tenant,
    *,
    legal_name: str,
    cnpj: str,
    address: str,
    city: str,
    uf: str,
    cep: str | None = None,
    trade_name: str | None = None,
    is_financial_institution: bool = False,
    actor: str,
) -> Creditor:
    try:
        cnpj_value = normalise_cnpj(cnpj)
    except InvalidDocument as exc:
        raise InvalidInput(f"CNPJ do credor inválido: {exc}", code="invalid_cnpj") from exc
    try:
        uf_value = normalise_uf(uf)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_uf") from exc
    for label, value in (("razão social", legal_name), ("endereço", address), ("cidade", city)):
        if not value or not value.strip():
            raise InvalidInput(f"{label} do credor é obrigatório (CDC art. 42-A)", code="missing_creditor_field")
    existing = session.scalar(select(Creditor.id).where(Creditor.tenant_id == tenant.id, Creditor.cnpj == cnpj_value))
    if existing is not None:
        raise Conflict(f"o credor {cnpj_value} já está cadastrado neste tenant", code="creditor_exists")
    cep_digits = re.sub(r"\D", "", cep or "") or None
    creditor = Creditor(
        tenant_id=tenant.id, legal_name=legal_name.strip(), trade_name=(trade_name or None), cnpj=cnpj_value,
        address=address.strip(), city=city.strip(), uf=uf_value, cep=cep_digits,
        is_financial_institution=is_financial_institution,
    )
    session.add(creditor)
    session.flush()
    audit.record(
        session, tenant_id=tenant.id, actor=actor, action="creditor.created", entity_type="creditor",
        entity_id=creditor.id, after={"legal_name": creditor.legal_name, "cnpj": cnpj_value},
    )
    return creditor


def list_creditors(session: Session, tenant_id: uuid.UUID) -> list[Creditor]:
    return list(session.scalars(select(Creditor).where(Creditor.tenant_id == tenant_id).order_by(Creditor.legal_name)))


def find_creditor(session: Session, tenant_id: uuid.UUID, cnpj: str | None) -> Creditor:
    """The creditor an import or a debt belongs to: by CNPJ, or the tenant's only creditor."""
    creditors = list_creditors(session, tenant_id)
    if cnpj:
        wanted = normalise_cnpj(cnpj)
        for creditor in creditors:
            if creditor.cnpj == wanted:
                return creditor
        raise NotFound(f"credor com CNPJ {wanted} não cadastrado neste tenant", code="creditor_not_found")
    if len(creditors) == 1:
        return creditors[0]
    if not creditors:
        raise InvalidInput(
            "este tenant não tem credor cadastrado: use `quita creditor add` antes de importar",
            code="no_creditor",
        )
    raise InvalidInput("este tenant tem vários credores: informe o CNPJ do credor", code="creditor_ambiguous")


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, tenant: Tenant, *, name: str, actor: str) -> tuple[ApiKey, str]:
    """Returns the key row and the plaintext key, which is shown once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(tenant_id=tenant.id, name=name, prefix=prefix, secret_hash=_hash_secret(secret), created_by=actor)
    session.add(key)
    session.flush()
    audit.record(
        session, tenant_id=tenant.id, actor=actor, action="api_key.created", entity_type="api_key",
        entity_id=key.id, after={"name": name, "prefix": prefix},
    )
    return key, f"{KEY_PREFIX}{prefix}_{secret}"


def revoke_api_key(session: Session, tenant: Tenant, prefix: str, *, actor: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.tenant_id == tenant.id, ApiKey.prefix == prefix))
    if key is None:
        raise NotFound(f"chave {prefix!r} não encontrada", code="api_key_not_found")
    key.revoked_at = utcnow()
    audit.record(
        session, tenant_id=tenant.id, actor=actor, action="api_key.revoked", entity_type="api_key", entity_id=key.id
    )
    return key


def authenticate(session: Session, presented: str) -> ApiKey:
    """Constant-time check of a presented key; every failure looks the same to the caller."""
    failure = Unauthorized("chave de API ausente ou inválida", code="invalid_api_key")
    if not presented.startswith(KEY_PREFIX):
        raise failure
    prefix, _, secret = presented[len(KEY_PREFIX):].partition("_")
    if not prefix or not secret:
        raise failure
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    expected = key.secret_hash if key is not None else _hash_secret("no-such-key")
    if not hmac.compare_digest(expected, _hash_secret(secret)) or key is None or key.revoked_at is not None:
        raise failure
    return key
