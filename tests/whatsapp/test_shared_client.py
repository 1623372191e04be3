"""Job threads share one client per number (``run_with_client``); a changed token gets a fresh one."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from quita.kit import secrets
from quita.kit.db import utcnow
from quita.whatsapp import service
from quita.whatsapp.client import WhatsAppClient
from quita.whatsapp.domain.messages import TextMessage
from quita.whatsapp.models import WhatsAppChannel
from tests.whatsapp.loopback import serve_fake_graph
from tests.whatsapp.payloads import PHONE_ID


def _channel(channel_id: uuid.UUID, url: str, token: str) -> WhatsAppChannel:
    return WhatsAppChannel(id=channel_id, phone_number_id=PHONE_ID, graph_url=url, api_version="v25.0",
                           access_token_enc=secrets.encrypt(token))  # fmt: skip


def test_threads_share_one_client_and_a_new_token_replaces_it() -> None:
    channel_id = uuid.uuid4()
    seen: list[WhatsAppClient] = []
    lock = threading.Lock()

    async def send(client: WhatsAppClient) -> Any:
        with lock:
            seen.append(client)
        return await client.send("5511987654321", TextMessage("olá"), callback_data=str(uuid.uuid4()),
                                 last_inbound_at=utcnow())

    with serve_fake_graph() as graph:
        channel = _channel(channel_id, graph.url, "tok-1")
        results: list[Any] = []
        threads = [threading.Thread(target=lambda: results.append(service.run_with_client(channel, send)))
                   for _ in range(3)]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        assert len(results) == 3 and all(r.wamid for r in results)
        assert len({id(c) for c in seen}) == 1  # one client, one connection pool, for every job thread
        old = seen[0]

        rotated = _channel(channel_id, graph.url, "tok-2")
        assert service.run_with_client(rotated, send).wamid
        assert seen[-1] is not old
        assert [r["headers"]["authorization"] for r in graph.requests] == ["Bearer tok-1"] * 3 + ["Bearer tok-2"]
        assert service.run_with_client(rotated, send).wamid and seen[-1] is seen[-2]
    assert old._http.is_closed  # the replaced client was closed on the sending loop
