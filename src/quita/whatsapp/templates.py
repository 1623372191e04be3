"""The per-tenant template registry, mirroring Meta: synced, created, and kept honest by webhooks.

Cadences may only use a template that is APPROVED, still UTILITY and not waiting for review. Meta
reclassifies templates it judges promotional to MARKETING (dearer, and subject to marketing opt-outs),
and pauses or disables templates with poor quality; each of those makes the template unusable here at
once, until a person has looked at it (``quita templates review``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from quita.audit import service as audit
from quita.kit.db import utcnow
from quita.kit.errors import InvalidInput, NotFound, QuitaError
from quita.whatsapp.domain.errors import error_from_envelope
from quita.whatsapp.domain.events import TemplateCategoryUpdate, TemplateStatusUpdate
from quita.whatsapp.models import WhatsAppChannel, WhatsAppTemplate
from quita.whatsapp.service import access_token

STARTER_DIR = Path(__file__).resolve().parent / "templates"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
UNUSABLE_STATUSES = {"PAUSED", "DISABLED", "REJECTED", "PENDING", "PENDING_DELETION", "DELETED", "LIMIT_EXCEEDED"}
MAX_PAGES = 200


class GraphError(QuitaError):
    status_code = 502
    code = "whatsapp_graph_error"


def parameter_names(components: Sequence[Mapping[str, Any]]) -> list[str]:
    """Placeholders of the header and body, in order of appearance (``1``, ``2`` … or named)."""
    names: list[str] = []
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind not in ("HEADER", "BODY"):
            continue
        for name in _PLACEHOLDER.findall(str(component.get("text") or "")):
            if name not in names:
                names.append(name)
    return names


def is_usable(status: str, category: str, needs_review: bool) -> bool:
    return status.upper() == "APPROVED" and category.upper() == "UTILITY" and not needs_review


def _refresh_usable(template: WhatsAppTemplate) -> None:
    template.usable = is_usable(template.status, template.category, template.needs_review)


def upsert(session: Session, tenant_id: uuid.UUID, waba_id: str, data: Mapping[str, Any]) -> WhatsAppTemplate:
    """Stores one template as Meta describes it (a listing item or a creation body plus its answer)."""
    name, language = str(data.get("name") or ""), str(data.get("language") or "")
    if not name or not language:
        raise InvalidInput("modelo sem name ou language", code="invalid_template")
    components = [dict(c) for c in data.get("components") or [] if isinstance(c, Mapping)]
    template = session.scalar(select(WhatsAppTemplate).where(
        WhatsAppTemplate.tenant_id == tenant_id, WhatsAppTemplate.waba_id == waba_id,
        WhatsAppTemplate.name == name, WhatsAppTemplate.language == language,
    ))
    category = str(data.get("category") or "UTILITY").upper()
    status = str(data.get("status") or "PENDING").upper()
    if template is None:
        template = WhatsAppTemplate(tenant_id=tenant_id, waba_id=waba_id, name=name, language=language,
                                    needs_review=False)
        session.add(template)
    elif template.category == "UTILITY" and category != "UTILITY":
        template.needs_review = True
    template.meta_id = str(data["id"]) if data.get("id") is not None else template.meta_id
    template.category, template.status = category, status
    template.components, template.parameter_names = components, parameter_names(components)
    template.updated_at = utcnow()
    _refresh_usable(template)
    session.flush()
    return template


def list_templates(session: Session, tenant_id: uuid.UUID) -> Sequence[WhatsAppTemplate]:
    return session.scalars(
        select(WhatsAppTemplate).where(WhatsAppTemplate.tenant_id == tenant_id)
        .order_by(WhatsAppTemplate.name, WhatsAppTemplate.language)
    ).all()


def usable_template(session: Session, tenant_id: uuid.UUID, name: str, language: str = "pt_BR") -> WhatsAppTemplate:
    """What a cadence calls before sending: refuses templates that are not usable right now."""
    template = session.scalar(select(WhatsAppTemplate).where(
        WhatsAppTemplate.tenant_id == tenant_id, WhatsAppTemplate.name == name, WhatsAppTemplate.language == language,
    ))
    if template is None:
        raise NotFound(f"modelo {name} ({language}) não está no registro", code="template_not_found")
    if not template.usable:
        raise InvalidInput(
            f"modelo {name} ({language}) não pode ser usado: status {template.status}, categoria "
            f"{template.category}{', aguardando revisão' if template.needs_review else ''}",
            code="template_unusable",
        )
    return template


def review(session: Session, tenant_id: uuid.UUID, name: str, language: str, *, actor: str) -> WhatsAppTemplate:
    template = session.scalar(select(WhatsAppTemplate).where(
        WhatsAppTemplate.tenant_id == tenant_id, WhatsAppTemplate.name == name, WhatsAppTemplate.language == language,
    ))
    if template is None:
        raise NotFound(f"modelo {name} ({language}) não está no registro", code="template_not_found")
    template.needs_review = False
    _refresh_usable(template)
    audit.record(session, tenant_id=tenant_id, actor=actor, action="whatsapp.template_reviewed",
                 entity_type="whatsapp_template", entity_id=template.id,
                 after={"status": template.status, "category": template.category, "usable": template.usable})
    return template


# --------------------------------------------------------------------------- webhooks


def apply_webhook(
    session: Session, tenant_id: uuid.UUID, event: TemplateStatusUpdate | TemplateCategoryUpdate
) -> dict[str, Any] | None:
    """Applies a status or category webhook to the registry; returns what changed (for the notice)."""
    query = select(WhatsAppTemplate).where(WhatsAppTemplate.tenant_id == tenant_id)
    if event.template_id:
        found = session.scalars(query.where(WhatsAppTemplate.meta_id == event.template_id)).all()
    else:
        found = []
    if not found and event.template_name:
        named = query.where(WhatsAppTemplate.name == event.template_name)
        if event.language:
            named = named.where(WhatsAppTemplate.language == event.language)
        found = session.scalars(named).all()
    if not found:
        return None
    changes = []
    for template in found:
        before = {"status": template.status, "category": template.category, "usable": template.usable}
        if isinstance(event, TemplateStatusUpdate):
            if event.event:
                template.status = event.event.upper()[:30]
            template.status_reason = (event.reason or event.detail or None) and str(event.reason or event.detail)[:300]
            if event.category:
                _new_category(template, event.category)
        else:
            if event.new_category:
                _new_category(template, event.new_category)
            elif event.correct_category and event.correct_category.upper() != template.category:
                template.needs_review = True  # Meta announced a reclassification: stop before it lands
        template.updated_at = utcnow()
        _refresh_usable(template)
        changes.append({"template": template.name, "language": template.language, "before": before,
                        "after": {"status": template.status, "category": template.category,
                                  "usable": template.usable, "needs_review": template.needs_review}})
    session.flush()
    return {"changes": changes}


def _new_category(template: WhatsAppTemplate, category: str) -> None:
    category = category.upper()[:20]
    if category != template.category:
        template.needs_review = True
    template.category = category


# --------------------------------------------------------------------------- talking to Meta


def _graph(channel: WhatsAppChannel, *, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=f"{channel.graph_url.rstrip('/')}/{channel.api_version}/",
        headers={"Authorization": f"Bearer {access_token(channel)}"}, timeout=30.0, transport=transport,
    )


def _answer(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        raise GraphError(f"a API do WhatsApp respondeu HTTP {response.status_code} sem JSON") from None
    if isinstance(body, Mapping):
        error = error_from_envelope(body, http_status=response.status_code)
        if error is not None:
            raise GraphError(f"a API do WhatsApp recusou: {error}", details={"code": error.code})
    if response.status_code >= 400:
        raise GraphError(f"a API do WhatsApp respondeu HTTP {response.status_code}")
    return body


def fetch_templates(channel: WhatsAppChannel, *, transport: httpx.BaseTransport | None = None,
                    page_size: int = 100) -> Iterator[dict[str, Any]]:
    """Every template of the channel's WABA, following ``paging.cursors.after`` page by page."""
    params: dict[str, Any] = {"limit": page_size}
    with _graph(channel, transport=transport) as graph:
        for _ in range(MAX_PAGES):
            body = _answer(graph.get(f"{channel.waba_id}/message_templates", params=params))
            data = body.get("data") if isinstance(body, Mapping) else None
            if not isinstance(data, list):
                raise GraphError("listagem de modelos sem 'data'")
            yield from (item for item in data if isinstance(item, dict))
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after") if isinstance(paging, Mapping) else None
            if not paging.get("next") or not after:
                return
            params = {"limit": page_size, "after": after}
    raise GraphError(f"mais de {MAX_PAGES} páginas de modelos: interrompido")


def sync(session: Session, channel: WhatsAppChannel, *, transport: httpx.BaseTransport | None = None) -> int:
    count = 0
    for item in fetch_templates(channel, transport=transport):
        upsert(session, channel.tenant_id, channel.waba_id, item)
        count += 1
    return count


def create(session: Session, channel: WhatsAppChannel, definition: Mapping[str, Any], *, actor: str,
           transport: httpx.BaseTransport | None = None) -> WhatsAppTemplate:
    """Submits a template to Meta (``POST /{waba-id}/message_templates``) and registers the answer."""
    for key in ("name", "language", "category", "components"):
        if key not in definition:
            raise InvalidInput(f"modelo sem o campo {key!r}", code="invalid_template")
    if not re.fullmatch(r"[a-z0-9_]{1,512}", str(definition["name"])):
        raise InvalidInput("nome do modelo: só letras minúsculas, dígitos e _", code="invalid_template")
    with _graph(channel, transport=transport) as graph:
        answer = _answer(graph.post(f"{channel.waba_id}/message_templates", json=dict(definition)))
    merged = {**definition, **{k: v for k, v in (answer or {}).items() if k in ("id", "status", "category")}}
    template = upsert(session, channel.tenant_id, channel.waba_id, merged)
    audit.record(session, tenant_id=channel.tenant_id, actor=actor, action="whatsapp.template_submitted",
                 entity_type="whatsapp_template", entity_id=template.id,
                 after={"name": template.name, "language": template.language, "status": template.status})
    return template


def starter_definitions() -> list[dict[str, Any]]:
    """The shipped pt-BR collection templates (Meta creation bodies), one YAML file each."""
    definitions = []
    for path in sorted(STARTER_DIR.glob("*.yaml")):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(loaded, dict):
            raise ValueError(f"{path.name}: expected one template definition")
        definitions.append(loaded)
    return definitions


def install_starter(session: Session, channel: WhatsAppChannel, *, actor: str,
                    transport: httpx.BaseTransport | None = None) -> list[WhatsAppTemplate]:
    return [create(session, channel, d, actor=actor, transport=transport) for d in starter_definitions()]
