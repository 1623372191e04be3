"""State and behaviour of the fake Cloud API: sends, media, templates, inbound messages, statistics.

Everything lives in memory behind one lock, and the send path does only dictionary work: statuses are a
function of time computed when asked, and webhook events are pushed on a heap that the dispatcher
(``tasks.py``) drains, so 1,000 sends per second fit on a small machine.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import itertools
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from quita.simulator.whatsapp.domain import errors, payloads
from quita.simulator.whatsapp.domain.identity import (
    br_key,
    canonical_wa_id,
    digits,
    new_numeric_id,
    new_wamid,
)
from quita.simulator.whatsapp.domain.messages import ReadRequest, SendRequest
from quita.simulator.whatsapp.domain.ratelimit import PairLimiter, TokenBucket
from quita.simulator.whatsapp.domain.templates import (
    TemplateDefinition,
    parse_definition,
    render,
    validate_send,
)
from quita.simulator.whatsapp.schemas import InboundMessage, SimConfig
from quita.simulator.whatsapp.starter import STARTER_TEMPLATES

MEDIA_LIMITS = {"image": 5 * 2**20, "document": 100 * 2**20, "audio": 16 * 2**20, "video": 16 * 2**20}
TYPING_SECONDS = 25.0
STATUS_ORDER = ("sent", "delivered", "read")


@dataclass
class Media:
    id: str
    data: bytes
    mime_type: str
    sha256: str
    filename: str | None


@dataclass
class Outbound:
    seq: int
    wamid: str
    phone_number_id: str
    to_input: str
    wa_id: str
    type: str
    body: dict[str, Any]
    callback_data: str | None
    accepted_at: float
    sent_at: float
    delivered_at: float
    read_at: float | None
    failure: int | None
    template: TemplateDefinition | None
    in_window: bool
    conversation_id: str

    def status_at(self, now: float) -> str:
        if now < self.sent_at:
            return "accepted"
        if self.failure is not None:
            return "failed"
        if self.read_at is not None and now >= self.read_at:
            return "read"
        return "delivered" if now >= self.delivered_at else "sent"

    def history(self, now: float) -> list[dict[str, Any]]:
        if self.failure is not None:
            return [{"status": "failed", "timestamp": int(self.sent_at)}] if now >= self.sent_at else []
        times = {"sent": self.sent_at, "delivered": self.delivered_at, "read": self.read_at}
        return [
            {"status": s, "timestamp": int(t)}
            for s in STATUS_ORDER
            if (t := times[s]) is not None and now >= t
        ]


@dataclass
class Inbound:
    seq: int
    wamid: str
    phone_number_id: str
    wa_id: str
    type: str
    content: dict[str, Any]
    context_id: str | None
    timestamp: float
    webhook_delivered: bool = False
    read_by_business: bool = False


@dataclass
class Stats:
    accepted: int = 0
    accepted_by_type: Counter[str] = field(default_factory=Counter)
    by_callback_data: Counter[str] = field(default_factory=Counter)
    rejected_by_code: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    failed_by_code: Counter[int] = field(default_factory=Counter)
    inbound: int = 0
    marked_read: int = 0
    statuses_emitted: Counter[str] = field(default_factory=Counter)
    webhooks_delivered: int = 0
    webhooks_failed: int = 0
    webhook_attempts: int = 0
    webhook_retries: int = 0
    webhook_duplicates: int = 0
    webhooks_skipped: int = 0

    def as_json(self, include_callback_data: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "accepted": self.accepted,
            "accepted_by_type": dict(self.accepted_by_type),
            "distinct_callback_data": len(self.by_callback_data),
            "duplicate_sends": {k: n for k, n in self.by_callback_data.items() if n > 1},
            "rejected": sum(self.rejected_by_code.values()),
            "rejected_by_code": {str(k): n for k, n in self.rejected_by_code.items()},
            "failed_by_code": {str(k): n for k, n in self.failed_by_code.items()},
            "faults": dict(self.faults),
            "inbound": self.inbound,
            "marked_read": self.marked_read,
            "statuses_emitted": dict(self.statuses_emitted),
            "webhooks": {
                "delivered": self.webhooks_delivered,
                "failed": self.webhooks_failed,
                "attempts": self.webhook_attempts,
                "retries": self.webhook_retries,
                "duplicates": self.webhook_duplicates,
                "skipped_no_url": self.webhooks_skipped,
            },
        }
        if include_callback_data:
            out["sends_by_callback_data"] = dict(self.by_callback_data)
        return out


# Events on the webhook heap: (due monotonic time, tie-breaker, event).
# ("status", wamid, status) | ("value", phone_number_id, value) | ("post", body bytes, attempt)
Event = tuple[str, Any, Any]


class WhatsAppSimulator:
    """One fake Cloud API tenant: a WABA with its business numbers, templates, media and debtors."""

    def __init__(self, config: SimConfig) -> None:
        self.launch_config = config.model_copy(deep=True)
        self._lock = threading.RLock()
        self.config = config
        self._reset_state()

    # ----- configuration and reset -------------------------------------------------------------------

    def _reset_state(self) -> None:
        self.rng = random.Random(self.config.seed)
        # Webhook-side draws happen in delivery order; a separate generator keeps the send path reproducible.
        self.webhook_rng = random.Random(None if self.config.seed is None else self.config.seed + 1)
        self.stats = Stats()
        self.outbound: dict[str, Outbound] = {}
        self.inbound: dict[str, Inbound] = {}
        self._order: deque[str] = deque()
        self._chats: dict[str, list[str]] = {}
        self.media: dict[str, Media] = {}
        self.windows: dict[tuple[str, str], float] = {}
        self.typing_until: dict[str, float] = {}
        self.templates: dict[tuple[str, str], TemplateDefinition] = {}
        self.heap: list[tuple[float, int, Event]] = []
        self._tie = itertools.count()
        self._seq = itertools.count(1)
        self._rebuild_limits()
        self._index_numbers()
        for template in [*STARTER_TEMPLATES, *self.config.templates]:
            self.add_template(template)

    def _rebuild_limits(self) -> None:
        mps = float(self.config.throughput_mps)
        self.throughput = {p.phone_number_id: TokenBucket(mps, mps) for p in self.config.phone_numbers}
        self.pairs = PairLimiter(self.config.pair_interval_s, self.config.pair_burst)

    def _index_numbers(self) -> None:
        cfg = self.config
        self.numbers = {
            p.phone_number_id: payloads.BusinessNumber(cfg.waba_id, p.phone_number_id, p.display_phone_number)
            for p in cfg.phone_numbers
        }
        self._undeliverable = {br_key(digits(n)) for n in cfg.undeliverable_numbers}
        self._legacy = {br_key(digits(n)) for n in cfg.legacy_wa_id_numbers}
        self._modern = {br_key(digits(n)) for n in cfg.modern_wa_id_numbers}

    def reset(self, keep_config: bool = False) -> None:
        with self._lock:
            if not keep_config:
                self.config = self.launch_config.model_copy(deep=True)
            self._reset_state()

    def update_config(self, changes: dict[str, Any]) -> SimConfig:
        """Applies a partial update (validated as a whole); templates given are added to the store."""
        with self._lock:
            merged = {**self.config.model_dump(), **changes}
            new = SimConfig.model_validate(merged)
            old = self.config
            self.config = new
            if "seed" in changes:
                self.rng = random.Random(new.seed)
                self.webhook_rng = random.Random(None if new.seed is None else new.seed + 1)
            limit_keys = ("throughput_mps", "pair_interval_s", "pair_burst", "phone_numbers")
            if any(getattr(old, k) != getattr(new, k) for k in limit_keys):
                self._rebuild_limits()
            self._index_numbers()
        for template in changes.get("templates", []):
            self.add_template(template)
        return new

    # ----- identities ------------------------------------------------------------------------------

    def wa_id_of(self, number: str) -> str:
        return canonical_wa_id(
            digits(number),
            legacy_min_ddd=self.config.legacy_wa_id_min_ddd,
            legacy_numbers=self._legacy,
            modern_numbers=self._modern,
        )

    def business_number(self, phone_number_id: str) -> payloads.BusinessNumber | None:
        return self.numbers.get(phone_number_id)

    def check_token(self, authorization: str | None, access_token: str | None) -> None:
        token = access_token
        if authorization:
            scheme, _, value = authorization.partition(" ")
            token = value.strip() if scheme.lower() == "bearer" else None
        if token != self.config.token:
            raise errors.bad_token()

    # ----- templates -------------------------------------------------------------------------------

    def add_template(self, data: Any) -> TemplateDefinition:
        with self._lock:
            key = (str(data.get("name")), str(data.get("language"))) if isinstance(data, dict) else ("", "")
            existing = self.templates.get(key)
            if existing is not None:
                raise errors.GraphError(
                    100,
                    "(#100) Invalid parameter",
                    f"Content in this language already exists for template {key[0]} ({key[1]}).",
                    subcode=2388024,
                )
            definition = parse_definition(data, new_numeric_id())
            self.templates[key] = definition
            return definition

    def template_list(self) -> list[TemplateDefinition]:
        return list(self.templates.values())

    def template_by_id(self, template_id: str) -> TemplateDefinition | None:
        return next((t for t in self.templates.values() if t.id == template_id), None)

    # ----- media -----------------------------------------------------------------------------------

    def store_media(self, data: bytes, mime_type: str, filename: str | None) -> Media:
        kind = mime_type.split("/", 1)[0]
        limit = MEDIA_LIMITS.get(kind, MEDIA_LIMITS["document"])
        if len(data) > limit:
            raise errors.GraphError(
                131053,
                "(#131053) Media upload error",
                f"File size {len(data)} exceeds the {limit} bytes limit.",
            )
        item = Media(new_numeric_id(), data, mime_type, hashlib.sha256(data).hexdigest(), filename)
        with self._lock:
            self.media[item.id] = item
        return item

    # ----- sends -----------------------------------------------------------------------------------

    def draw_fault(self) -> str | None:
        """Which fault, if any, hits this request (drawn from the seeded generator)."""
        cfg = self.config
        if not (cfg.fault_5xx_rate or cfg.fault_timeout_rate or cfg.fault_drop_rate):
            return None
        with self._lock:
            draw = self.rng.random()
            for kind, rate in (("5xx", cfg.fault_5xx_rate), ("timeout", cfg.fault_timeout_rate)):
                if draw < rate:
                    self.stats.faults[kind] += 1
                    return kind
                draw -= rate
            if draw < cfg.fault_drop_rate:
                self.stats.faults["drop"] += 1
                return "drop"
        return None

    def draw_latency(self) -> float:
        cfg = self.config
        if not cfg.latency_ms and not cfg.latency_jitter_ms:
            return 0.0
        with self._lock:
            jitter = self.rng.random() * cfg.latency_jitter_ms
        return (cfg.latency_ms + jitter) / 1000.0

    def reject(self, error: errors.GraphError) -> errors.GraphError:
        with self._lock:
            self.stats.rejected_by_code[error.code] += 1
        return error

    def send(
        self, number: payloads.BusinessNumber, request: SendRequest, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Accepts a validated send or raises the synchronous error Meta would answer."""
        cfg = self.config
        wa_id = self.wa_id_of(request.to_digits)
        key = br_key(wa_id)
        with self._lock:
            template = None
            if request.type == "template":
                assert request.template_name is not None and request.template_language is not None
                template = self.templates.get((request.template_name, request.template_language))
                if template is None:
                    raise self._rejected(
                        errors.template_not_found(request.template_name, request.template_language)
                    )
                try:
                    validate_send(template, body["template"].get("components"))
                except errors.GraphError as exc:
                    raise self._rejected(exc) from None
            if request.media_id is not None and request.media_id not in self.media:
                raise self._rejected(errors.invalid_value(f"Media id {request.media_id} was not found."))
            mono = time.monotonic()
            if not self.throughput[number.phone_number_id].take(mono):
                raise self._rejected(errors.throughput_reached())
            if not self.pairs.take(f"{number.phone_number_id}:{key}", mono):
                raise self._rejected(errors.pair_rate_limited())
            now = time.time()
            last_inbound = self.windows.get((number.phone_number_id, key))
            in_window = last_inbound is not None and now - last_inbound < cfg.window_hours * 3600
            failure = None
            if key in self._undeliverable:
                failure = 131026
            elif template is None and cfg.enforce_window and not in_window:
                failure = 131047
            reads = failure is None and self.rng.random() < cfg.read_rate
            sent_d, deliv_d = cfg.sent_delay_s, max(cfg.delivered_delay_s, cfg.sent_delay_s)
            read_d = max(cfg.read_delay_s, deliv_d)
            wamid = new_wamid(wa_id)
            record = Outbound(
                seq=next(self._seq),
                wamid=wamid,
                phone_number_id=number.phone_number_id,
                to_input=request.to_input,
                wa_id=wa_id,
                type=request.type,
                body=body,
                callback_data=request.callback_data,
                accepted_at=now,
                sent_at=now + sent_d,
                delivered_at=now + deliv_d,
                read_at=now + read_d if reads else None,
                failure=failure,
                template=template,
                in_window=in_window,
                conversation_id=payloads.new_conversation_id(),
            )
            self._remember(record.wamid, key)
            self.outbound[wamid] = record
            self.stats.accepted += 1
            self.stats.accepted_by_type[request.type] += 1
            if request.callback_data is not None:
                self.stats.by_callback_data[request.callback_data] += 1
            self._schedule_statuses(record, mono, sent_d, deliv_d, read_d)
        message: dict[str, Any] = {"id": wamid}
        if template is not None:
            message["message_status"] = "accepted"
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": request.to_input, "wa_id": wa_id}],
            "messages": [message],
        }

    def _rejected(self, error: errors.GraphError) -> errors.GraphError:
        self.stats.rejected_by_code[error.code] += 1
        return error

    def _remember(self, wamid: str, chat_key: str) -> None:
        self._order.append(wamid)
        self._chats.setdefault(chat_key, []).append(wamid)
        while len(self._order) > self.config.max_messages:
            old = self._order.popleft()
            self.outbound.pop(old, None)
            self.inbound.pop(old, None)

    def _push(self, due: float, event: Event) -> None:
        heapq.heappush(self.heap, (due, next(self._tie), event))

    def _schedule_statuses(
        self, record: Outbound, mono: float, sent_d: float, deliv_d: float, read_d: float
    ) -> None:
        cfg = self.config
        if record.failure is not None:
            self.stats.failed_by_code[record.failure] += 1
            self._push(mono + sent_d, ("status", record.wamid, "failed"))
            return
        if cfg.status_webhooks == "off":
            return
        if cfg.status_webhooks == "sampled" and self.rng.random() >= cfg.status_sample_rate:
            return
        plan = [("sent", sent_d), ("delivered", deliv_d)]
        if record.read_at is not None:
            plan.append(("read", read_d))
        if cfg.out_of_order_rate and self.rng.random() < cfg.out_of_order_rate:
            # ``sent`` arrives after ``delivered`` (and ``read`` if any), as Meta documents it can.
            plan = [*plan[1:], ("sent", plan[-1][1] + 0.05)]
        for state, delay in plan:
            self._push(mono + delay, ("status", record.wamid, state))

    def mark_read(self, number: payloads.BusinessNumber, request: ReadRequest) -> dict[str, Any]:
        with self._lock:
            message = self.inbound.get(request.message_id)
            if message is None or message.phone_number_id != number.phone_number_id:
                raise self._rejected(errors.invalid_parameter(f"Message {request.message_id} was not found."))
            message.read_by_business = True
            self.stats.marked_read += 1
            if request.typing:
                self.typing_until[br_key(message.wa_id)] = time.time() + TYPING_SECONDS
        return {"success": True}

    # ----- webhook side ----------------------------------------------------------------------------

    def pop_due(self, now_mono: float) -> list[Event]:
        due: list[Event] = []
        with self._lock:
            while self.heap and self.heap[0][0] <= now_mono:
                due.append(heapq.heappop(self.heap)[2])
        return due

    def schedule(self, delay: float, event: Event) -> None:
        with self._lock:
            self._push(time.monotonic() + delay, event)

    def draw_duplicate(self) -> bool:
        if not self.config.duplicate_rate:
            return False
        with self._lock:
            return self.webhook_rng.random() < self.config.duplicate_rate

    def status_payload(self, wamid: str, state: str) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        """(phone_number_id, ``contacts[]`` item, ``statuses[]`` item); None if the message was evicted."""
        record = self.outbound.get(wamid)
        if record is None:
            return None
        user_id = payloads.business_scoped_user_id(record.wa_id, self.config.waba_id)
        contact = {"wa_id": record.wa_id, "user_id": user_id}
        with self._lock:
            self.stats.statuses_emitted[state] += 1
        if state == "failed":
            assert record.failure is not None
            item = payloads.status(
                wamid,
                "failed",
                int(record.sent_at),
                record.wa_id,
                callback_data=record.callback_data,
                errors=[errors.status_error(record.failure)],
            )
            item["recipient_user_id"] = user_id
            return record.phone_number_id, contact, item
        category, billable = payloads.price_of(
            record.template.category if record.template else None, record.in_window
        )
        stamp = {"sent": record.sent_at, "delivered": record.delivered_at, "read": record.read_at}[state]
        conv = None
        if self.config.include_conversation and state in ("sent", "delivered"):
            expires = int(record.accepted_at + 24 * 3600)
            conv = payloads.conversation(record.conversation_id, expires, category)
        item = payloads.status(
            wamid,
            state,
            int(stamp or record.accepted_at),
            record.wa_id,
            callback_data=record.callback_data,
            price=payloads.pricing(category, billable),
            conv=conv,
        )
        item["recipient_user_id"] = user_id
        return record.phone_number_id, contact, item

    def note_webhook(self, outcome: str, inbound_ids: tuple[str, ...] = ()) -> None:
        with self._lock:
            if outcome == "delivered":
                self.stats.webhooks_delivered += 1
                for wamid in inbound_ids:
                    if (message := self.inbound.get(wamid)) is not None:
                        message.webhook_delivered = True
            elif outcome == "failed":
                self.stats.webhooks_failed += 1
            elif outcome == "attempt":
                self.stats.webhook_attempts += 1
            elif outcome == "retry":
                self.stats.webhook_retries += 1
            elif outcome == "duplicate":
                self.stats.webhook_duplicates += 1
            elif outcome == "skipped":
                self.stats.webhooks_skipped += 1

    # ----- the debtor's side -----------------------------------------------------------------------

    def receive(self, message: InboundMessage) -> Inbound:
        """The debtor acts on their phone: record it, open the window and queue the webhook."""
        phone_number_id = message.phone_number_id or self.config.phone_numbers[0].phone_number_id
        number = self.numbers.get(phone_number_id)
        if number is None:
            raise ValueError(f"Unknown phone_number_id {phone_number_id}.")
        sender = digits(message.from_)
        if not 8 <= len(sender) <= 15:
            raise ValueError("'from' must be a phone number with 8 to 15 digits.")
        wa_id = self.wa_id_of(sender)
        kind, content = self._inbound_content(message)
        context = None
        if message.context:
            context = {"from": number.display_phone_number, "id": message.context}
        now = time.time()
        wamid = new_wamid(wa_id)
        value = {
            "contacts": [
                payloads.contact(wa_id, message.name, payloads.business_scoped_user_id(wa_id, number.waba_id))
            ],
            "messages": [payloads.inbound(wamid, wa_id, int(now), kind, content, context)],
        }
        with self._lock:
            record = Inbound(
                next(self._seq), wamid, phone_number_id, wa_id, kind, content, message.context, now
            )
            self.inbound[wamid] = record
            self._remember(wamid, br_key(wa_id))
            self.windows[(phone_number_id, br_key(wa_id))] = now
            self.typing_until.pop(br_key(wa_id), None)
            self.stats.inbound += 1
            self._push(time.monotonic(), ("value", phone_number_id, value))
        return record

    def _inbound_content(self, message: InboundMessage) -> tuple[str, dict[str, Any]]:
        kind = message.type
        if kind == "text":
            if not message.text:
                raise ValueError("A text message needs 'text'.")
            return "text", {"body": message.text}
        if kind == "button":
            if not message.text and not message.payload:
                raise ValueError("A template button tap needs 'payload' and/or 'text'.")
            text = message.text or message.payload or ""
            return "button", {"payload": message.payload or text, "text": text}
        if kind in ("button_reply", "list_reply"):
            if not message.id or not message.title:
                raise ValueError(f"A {kind} needs 'id' and 'title'.")
            reply: dict[str, Any] = {"id": message.id, "title": message.title}
            if kind == "list_reply" and message.description:
                reply["description"] = message.description
            return "interactive", {"type": kind, kind: reply}
        if kind == "reaction":
            if not message.message_id:
                raise ValueError("A reaction needs 'message_id'.")
            return "reaction", {"message_id": message.message_id, "emoji": message.emoji or ""}
        if not message.data_base64:
            raise ValueError(f"A {kind} needs 'data_base64'.")
        try:
            data = base64.b64decode(message.data_base64, validate=True)
        except ValueError as exc:
            raise ValueError("'data_base64' is not valid base64.") from exc
        default_mime = "application/pdf" if kind == "document" else "image/jpeg"
        item = self.store_media(data, message.mime_type or default_mime, message.filename)
        content: dict[str, Any] = {"mime_type": item.mime_type, "sha256": item.sha256, "id": item.id}
        if message.caption:
            content["caption"] = message.caption
        if kind == "document":
            content["filename"] = message.filename or "documento.pdf"
        return kind, content

    # ----- views for tests and the phone page ------------------------------------------------------

    def outbound_json(self, record: Outbound, now: float) -> dict[str, Any]:
        out: dict[str, Any] = {
            "direction": "out",
            "seq": record.seq,
            "id": record.wamid,
            "phone_number_id": record.phone_number_id,
            "to": record.to_input,
            "wa_id": record.wa_id,
            "type": record.type,
            "timestamp": int(record.accepted_at),
            "biz_opaque_callback_data": record.callback_data,
            "status": record.status_at(now),
            "statuses": record.history(now),
            "errors": [errors.status_error(record.failure)]
            if record.failure and now >= record.sent_at
            else [],
            "request": record.body,
        }
        if record.template is not None:
            out["rendered"] = render(record.template, record.body["template"].get("components"))
        return out

    def inbound_json(self, record: Inbound) -> dict[str, Any]:
        tick = "read" if record.read_by_business else "delivered" if record.webhook_delivered else "sent"
        return {
            "direction": "in",
            "seq": record.seq,
            "id": record.wamid,
            "wa_id": record.wa_id,
            "type": record.type,
            "timestamp": int(record.timestamp),
            "content": record.content,
            "context": record.context_id,
            "status": tick,
        }

    def sent_to(self, number: str | None, limit: int) -> list[dict[str, Any]]:
        now = time.time()
        with self._lock:
            if number is None:
                records = list(self.outbound.values())[-limit:]
            else:
                chat = self._chats.get(br_key(self.wa_id_of(number)), [])
                records = [r for w in chat if (r := self.outbound.get(w)) is not None][-limit:]
            return [self.outbound_json(r, now) for r in records]

    def chat(self, number: str, limit: int = 300) -> dict[str, Any]:
        now = time.time()
        key = br_key(self.wa_id_of(number))
        with self._lock:
            items: list[dict[str, Any]] = []
            for wamid in self._chats.get(key, [])[-limit:]:
                if (out := self.outbound.get(wamid)) is not None:
                    items.append(self.outbound_json(out, now))
                elif (inc := self.inbound.get(wamid)) is not None:
                    items.append(self.inbound_json(inc))
            typing = self.typing_until.get(key, 0.0) > now
        return {"number": number, "wa_id": self.wa_id_of(number), "typing": typing, "messages": items}
