"""Webhook delivery: drains the simulator's event heap and posts signed bodies to the configured URL.

One scheduler task turns due events into POSTs (batching statuses of one number when asked) and a few
worker tasks send them. A non-2xx answer or a connection error is retried with exponential backoff, as Meta
does (for days there; a handful of attempts here), so Quita's idempotency is exercised without blocking
the send path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from quita.simulator.whatsapp.domain import payloads
from quita.simulator.whatsapp.service import Event, WhatsAppSimulator

log = logging.getLogger(__name__)
TICK_S = 0.01


@dataclass(frozen=True)
class Post:
    body: bytes
    attempt: int
    inbound_ids: tuple[str, ...]
    duplicate: bool = False


class WebhookDispatcher:
    def __init__(self, simulator: WhatsAppSimulator) -> None:
        self.sim = simulator
        self.queue: asyncio.Queue[Post] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        workers = self.sim.config.webhook_workers
        self._client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
        )
        self._tasks = [asyncio.create_task(self._schedule_loop(), name="sim-webhook-scheduler")]
        self._tasks += [asyncio.create_task(self._worker(), name=f"sim-webhook-{i}") for i in range(workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._client is not None:
            await self._client.aclose()

    async def _schedule_loop(self) -> None:
        while True:
            events = self.sim.pop_due(time.monotonic())
            if events:
                for post in self._posts(events):
                    self.queue.put_nowait(post)
            await asyncio.sleep(TICK_S)

    def _posts(self, events: list[Event]) -> list[Post]:
        posts: list[Post] = []
        statuses: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
        batch = self.sim.config.webhook_batch_size
        for kind, first, second in events:
            if kind == "post":
                posts.append(second)
            elif kind == "value":
                inbound_ids = tuple(m["id"] for m in first_value_messages(second))
                posts.append(self._post(first, second, inbound_ids))
            elif kind == "status":
                found = self.sim.status_payload(first, second)
                if found is None:
                    continue
                phone_number_id, contact, item = found
                pending = statuses.setdefault(phone_number_id, [])
                pending.append((contact, item))
                if len(pending) >= batch:
                    posts.append(self._status_post(phone_number_id, pending))
                    statuses[phone_number_id] = []
        for phone_number_id, pending in statuses.items():
            if pending:
                posts.append(self._status_post(phone_number_id, pending))
        return posts

    def _status_post(
        self, phone_number_id: str, pending: list[tuple[dict[str, Any], dict[str, Any]]]
    ) -> Post:
        """Statuses of one number in one change; ``contacts[i]`` is the recipient of ``statuses[i]``."""
        value = {"contacts": [c for c, _ in pending], "statuses": [s for _, s in pending]}
        return self._post(phone_number_id, value, ())

    def _post(self, phone_number_id: str, value: dict[str, Any], inbound_ids: tuple[str, ...]) -> Post:
        number = self.sim.business_number(phone_number_id)
        assert number is not None
        body = json.dumps(
            payloads.envelope(number, value), ensure_ascii=False, separators=(",", ":")
        ).encode()
        return Post(body, 1, inbound_ids)

    async def _worker(self) -> None:
        while True:
            post = await self.queue.get()
            try:
                await self._deliver(post)
            except Exception:  # a bug here must not kill the worker
                log.exception("webhook delivery crashed")

    async def _deliver(self, post: Post) -> None:
        cfg = self.sim.config
        if not cfg.webhook_url:
            self.sim.note_webhook("skipped")
            return
        assert self._client is not None
        headers = {
            "Content-Type": "application/json",
            payloads.SIGNATURE_HEADER: payloads.sign(post.body, cfg.app_secret),
            "User-Agent": "facebookexternalua",
        }
        self.sim.note_webhook("attempt")
        ok = False
        try:
            response = await self._client.post(
                cfg.webhook_url, content=post.body, headers=headers, timeout=cfg.webhook_timeout_s
            )
            ok = 200 <= response.status_code < 300
        except httpx.HTTPError as exc:
            log.debug("webhook POST failed: %s", exc)
        if ok:
            self.sim.note_webhook("delivered", post.inbound_ids)
            if not post.duplicate and self.sim.draw_duplicate():
                self.sim.note_webhook("duplicate")
                self.sim.schedule(0.05, ("post", None, Post(post.body, 1, (), duplicate=True)))
            return
        if post.attempt >= cfg.webhook_max_attempts:
            self.sim.note_webhook("failed")
            return
        self.sim.note_webhook("retry")
        delay = cfg.webhook_retry_base_s * 2 ** (post.attempt - 1)
        retry = Post(post.body, post.attempt + 1, post.inbound_ids, post.duplicate)
        self.sim.schedule(delay, ("post", None, retry))


def first_value_messages(value: dict[str, Any]) -> list[dict[str, Any]]:
    messages = value.get("messages", [])
    return messages if isinstance(messages, list) else []
