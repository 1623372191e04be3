"""The hash chain behind the conversation record: pure, so the writer and the verifier share one definition.

Each entry's ``content_hash`` is the SHA-256 of its canonical JSON (sorted keys, no spaces, UTF-8, times
as ISO-8601 UTC with microseconds); ``entry_hash`` = SHA-256(``prev_hash`` ":" ``content_hash``), and the
next entry's ``prev_hash`` is this ``entry_hash``. Editing any field breaks that entry's content hash;
deleting or reordering entries breaks the links or the sequence numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical_time(value: dt.datetime) -> str:
    """How a time appears in the canonical JSON."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in evidence content")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return canonical_time(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _canonical_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_value(v) for v in value]
    return value


def canonical_json(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(
        _canonical_value(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def content_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(fields)).hexdigest()


_PLAIN = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def plain_content_hash(fields: Mapping[str, Any]) -> str:
    """:func:`content_hash` of fields the caller already put in canonical form (uuids as ``str``, times
    through :func:`canonical_time`, otherwise only ``str``, ``int``, ``None`` and lists and ``str``-keyed
    dicts of them): the same bytes, so the same hash, without the recursive walk, which was most of the
    cost of hashing a dispatcher batch's entries."""
    return hashlib.sha256(_PLAIN.encode(fields).encode("utf-8")).hexdigest()


def link_hash(prev_hash: str, own_content_hash: str) -> str:
    return hashlib.sha256(f"{prev_hash}:{own_content_hash}".encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredLink:
    """What the verifier reads back of one entry."""

    seq: int
    fields: Mapping[str, Any]
    prev_hash: str
    content_hash: str
    entry_hash: str
    ref: str  # how to name the entry in a report (its id)


@dataclass(frozen=True, slots=True)
class BrokenLink:
    seq: int
    ref: str
    reason: str


def first_broken_link(links: Iterable[StoredLink]) -> BrokenLink | None:
    """Walks one conversation's entries in ``seq`` order; the first inconsistency, or ``None``."""
    expected_prev = GENESIS
    expected_seq = 1
    for link in links:
        if link.seq != expected_seq:
            return BrokenLink(link.seq, link.ref, f"sequence jumps from {expected_seq - 1} to {link.seq} "
                                                  "(an entry was deleted or inserted)")
        if link.prev_hash != expected_prev:
            return BrokenLink(link.seq, link.ref, "prev_hash does not match the previous entry")
        if content_hash(link.fields) != link.content_hash:
            return BrokenLink(link.seq, link.ref, "content does not match its content_hash (the entry was edited)")
        if link_hash(link.prev_hash, link.content_hash) != link.entry_hash:
            return BrokenLink(link.seq, link.ref, "entry_hash does not match prev_hash + content_hash")
        expected_prev = link.entry_hash
        expected_seq += 1
    return None
