"""``quita bot chat``: be the debtor from a terminal, through the WhatsApp simulator's control API.

The terminal does what the phone page does: it posts ``/_sim/inbound`` (so the message reaches Quita as a
signed webhook, exactly like a real one) and shows what the business sent back, read from
``/_sim/messages``. Buttons and list rows are numbered; typing a number taps that option of the newest
message that has options (with ``context`` = that message's wamid, as WhatsApp does), anything else is sent
as text. Useful for demos and for support reproducing a debtor's conversation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class Option:
    """One tappable option: what the phone posts back when it is chosen."""

    title: str
    inbound: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Shown:
    text: str
    options: tuple[Option, ...] = ()


def show(message: dict[str, Any]) -> Shown:
    """A business message (a ``/_sim/messages`` entry) as the debtor sees it, with its tappable options."""
    request, wamid = message.get("request") or {}, message.get("id")
    kind = request.get("type")
    if kind == "text":
        return Shown(str(request["text"]["body"]))
    if kind == "template":
        rendered = message.get("rendered") or {}
        header = (rendered.get("header") or {}).get("text")
        body = "\n".join(p for p in (header, rendered.get("body"), rendered.get("footer")) if p)
        options = tuple(
            Option(
                b["text"], {"type": "button", "payload": b["payload"], "text": b["text"], "context": wamid}
            )
            for b in rendered.get("buttons", ())
            if b.get("type") == "quick_reply"
        )
        return Shown(body, options)
    if kind == "interactive":
        interactive = request["interactive"]
        body = str(interactive.get("body", {}).get("text", ""))
        action = interactive.get("action", {})
        if interactive.get("type") == "button":
            options = tuple(
                Option(b["reply"]["title"], {"type": "button_reply", "id": b["reply"]["id"],
                                             "title": b["reply"]["title"], "context": wamid})
                for b in action.get("buttons", ())
            )  # fmt: skip
        else:
            rows = [r for s in action.get("sections", ()) for r in s.get("rows", ())]
            options = tuple(
                Option(
                    f"{r['title']} — {r['description']}" if r.get("description") else r["title"],
                    {"type": "list_reply", "id": r["id"], "title": r["title"], "context": wamid},
                )
                for r in rows
            )
        return Shown(body, options)
    if kind in ("document", "image"):
        media = request.get(kind, {})
        return Shown(f"[{kind}] {media.get('filename') or media.get('caption') or ''}".strip())
    return Shown(f"[{kind}]")


@dataclass
class ChatSession:
    """One debtor's phone on the simulator; ``send`` returns what the business answered."""

    sim_url: str
    phone: str
    name: str = "Devedor"
    quiet_s: float = 1.2  # the answer is complete once nothing new arrived for this long
    timeout_s: float = 15.0
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))
    seen: int = 0
    options: tuple[Option, ...] = ()

    def history(self) -> list[dict[str, Any]]:
        response = self.client.get(f"{self.sim_url}/_sim/messages", params={"to": self.phone})
        response.raise_for_status()
        return list(response.json()["data"])

    def catch_up(self) -> list[Shown]:
        """What the business sent that was not shown yet (e.g. the identity template from the cadence)."""
        return self._take(self.history())

    def _take(self, messages: list[dict[str, Any]]) -> list[Shown]:
        fresh, self.seen = messages[self.seen :], len(messages)
        shown = [show(m) for m in fresh]
        for item in shown:
            if item.options:
                self.options = item.options
        return shown

    def inbound_for(self, line: str) -> dict[str, Any]:
        text = line.strip()
        if text.isdigit() and 1 <= int(text) <= len(self.options):
            return self.options[int(text) - 1].inbound
        return {"type": "text", "text": text}

    def send(self, line: str, sleep: Callable[[float], None] = time.sleep) -> list[Shown]:
        body = {"from": self.phone, "name": self.name, **self.inbound_for(line)}
        self.client.post(f"{self.sim_url}/_sim/inbound", json=body).raise_for_status()
        replies: list[Shown] = []
        started = last_new = time.monotonic()
        while True:
            sleep(0.1)
            fresh = self._take(self.history())
            now = time.monotonic()
            if fresh:
                replies.extend(fresh)
                last_new = now
            if replies and now - last_new >= self.quiet_s:
                return replies
            if not replies and now - started >= self.timeout_s:
                return (
                    replies  # the bot stays silent (a person owns the conversation, or it was told to stop)
                )


def format_shown(item: Shown) -> str:
    lines = [item.text] if item.text else []
    lines += [f"  [{n}] {o.title}" for n, o in enumerate(item.options, start=1)]
    return "\n".join(lines)
