"""A live simulator (uvicorn on a free loopback port) and a webhook receiver, shared by the simulator tests."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import uvicorn

from quita.simulator.app import create_app
from quita.simulator.whatsapp.schemas import SimConfig

TOKEN = "test-token"
SECRET = "test-app-secret"
PHONE_ID = "100000000000001"
WABA_ID = "200000000000001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Receiver:
    """Collects webhook POSTs; answers with queued status codes first, then 200."""

    url: str = ""
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def clear(self) -> None:
        with self.cond:
            self.posts.clear()
            self.answers.clear()

    def bodies(self) -> list[dict[str, Any]]:
        with self.cond:
            return [json.loads(body) for _, body in self.posts]

    def statuses(self) -> list[dict[str, Any]]:
        return [
            s
            for b in self.bodies()
            for e in b["entry"]
            for c in e["changes"]
            for s in c["value"].get("statuses", [])
        ]

    def messages(self) -> list[dict[str, Any]]:
        return [
            m
            for b in self.bodies()
            for e in b["entry"]
            for c in e["changes"]
            for m in c["value"].get("messages", [])
        ]

    def wait_for(self, predicate: Callable[[Receiver], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"webhook condition not met; got {len(self.posts)} posts: {self.posts!r}"
                    )
                self.cond.wait(min(left, 0.05))


def _start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.cond:
                status = receiver.answers.pop(0) if receiver.answers else 200
                if status == 200:
                    receiver.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                receiver.cond.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhook"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[Receiver]:
    receiver, server = _start_receiver()
    yield receiver
    server.shutdown()


def launch_config(webhook_url: str) -> SimConfig:
    return SimConfig(
        token=TOKEN,
        app_secret=SECRET,
        webhook_url=webhook_url,
        seed=7,
        sent_delay_s=0.01,
        delivered_delay_s=0.03,
        read_delay_s=0.06,
        webhook_retry_base_s=0.05,
    )


@pytest.fixture(scope="session")
def sim_server(receiver_server: Receiver) -> Iterator[str]:
    port = free_port()
    app = create_app(launch_config(receiver_server.url))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("simulator did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def _graph(sim_server: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=f"{sim_server}/v23.0", headers=headers, verify=False) as client:
        yield client


@pytest.fixture(scope="session")
def _control(sim_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{sim_server}/_sim", verify=False) as client:
        yield client


@pytest.fixture()
def receiver(_control: httpx.Client, receiver_server: Receiver) -> Receiver:
    """A clean simulator (state and config reset) and an empty receiver."""
    _control.post("/reset").raise_for_status()
    receiver_server.clear()
    return receiver_server


@pytest.fixture()
def base_url(sim_server: str, receiver: Receiver) -> str:
    return sim_server


@pytest.fixture()
def graph(_graph: httpx.Client, receiver: Receiver) -> httpx.Client:
    return _graph


@pytest.fixture()
def control(_control: httpx.Client, receiver: Receiver) -> httpx.Client:
    return _control
