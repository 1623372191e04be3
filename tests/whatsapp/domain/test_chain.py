"""The dispatcher hashes its entries from plain values (``plain_content_hash``); the verifier hashes what
it reads back with the generic canonical walk (``content_hash``). Both must give the same bytes."""

from __future__ import annotations

import datetime as dt
import uuid

from quita.whatsapp.domain.chain import canonical_json, canonical_time, content_hash, plain_content_hash


def _pair(params: list[str], wamid: str | None) -> tuple[dict[str, object], dict[str, object]]:
    tenant, conversation, message = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    at = dt.datetime(2026, 3, 17, 9, 30, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    content = {"type": "template", "template": {"name": "quita_vencimento_hoje", "parameters": params}}
    typed = {
        "tenant_id": tenant, "conversation_id": conversation, "seq": 7, "direction": "outbound",
        "actor": "cadence", "kind": "template", "content": content, "message_id": message, "wamid": wamid,
        "occurred_at": at,
    }  # fmt: skip
    plain = {
        **typed, "tenant_id": str(tenant), "conversation_id": str(conversation), "message_id": str(message),
        "occurred_at": canonical_time(at),
    }  # fmt: skip
    return typed, plain


def test_plain_values_hash_like_the_canonical_walk() -> None:
    for params, wamid in (
        (["Maria", "março/2026", "R$ 150,00", "Credor S.A., Rua Um, 1, São Paulo/SP"], "wamid.HBgN=="),
        ([], None),
        (['aspas " e \\ barra', "emoji 💸", "\u2028 separador"], "wamid.x"),
    ):
        typed, plain = _pair(params, wamid)
        assert plain_content_hash(plain) == content_hash(typed)
        assert canonical_json(typed) == canonical_json(plain)


def test_canonical_time_is_utc_with_microseconds() -> None:
    at = dt.datetime(2026, 3, 17, 9, 30, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    assert canonical_time(at) == "2026-03-17T12:30:01.000005Z"
