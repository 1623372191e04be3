"""The debtor phone page in headless Chromium (Debian's package): a template arrives, its button is tapped,
and the webhook with the button payload reaches Quita's side."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from simulator.conftest import Receiver
from simulator.helpers import PHONE_ID, template_body

CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() == "true"
ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not IN_CI and not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
    pytest.skip(
        "Debian chromium is not installed (the test is mandatory when CI=true)", allow_module_level=True
    )
if not IN_CI:
    pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def test_template_button_tap_reaches_the_webhook(
    page: Page, base_url: str, graph: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    sent = graph.post(f"/{PHONE_ID}/messages", json=template_body("5511988887777", "debt-42"))
    wamid = sent.json()["messages"][0]["id"]

    page.goto(f"{base_url}/_sim/phone/5511988887777")
    bubble = page.locator(f'[data-wamid="{wamid}"]')
    expect(bubble).to_contain_text("Olá, Maria. Sua fatura de R$ 150,00 vence em 10/09/2026.")
    expect(bubble).to_contain_text("Lembrete de pagamento")
    bubble.get_by_role("button", name="Negociar").click()

    receiver.wait_for(lambda r: any(m["type"] == "button" for m in r.messages()))
    (tap,) = [m for m in receiver.messages() if m["type"] == "button"]
    assert tap["button"] == {"payload": "NEGOCIAR", "text": "Negociar"}
    assert tap["context"]["id"] == wamid
    assert tap["from"] == "5511988887777"
    expect(page.get_by_test_id("my-message").last).to_contain_text("Negociar")


def test_list_reply_typed_text_and_document_download(
    page: Page, base_url: str, graph: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    number = "5531977776666"  # DDD 31: WhatsApp knows this user by the legacy 12-digit id
    control.post(
        "/inbound", json={"from": number, "type": "text", "text": "Oi, quero negociar"}
    ).raise_for_status()
    media_id = graph.post(
        f"/{PHONE_ID}/media",
        files={"file": ("boleto.pdf", b"%PDF-1.4 boleto", "application/pdf")},
        data={"messaging_product": "whatsapp", "type": "application/pdf"},
    ).json()["id"]
    graph.post(
        f"/{PHONE_ID}/messages",
        json={
            "messaging_product": "whatsapp",
            "to": number,
            "type": "document",
            "document": {"id": media_id, "filename": "boleto.pdf", "caption": "Seu boleto"},
        },
    ).raise_for_status()
    listing = graph.post(
        f"/{PHONE_ID}/messages",
        json={
            "messaging_product": "whatsapp",
            "to": number,
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Escolha um plano"},
                "action": {
                    "button": "Ver opções",
                    "sections": [
                        {
                            "title": "Parcelamento",
                            "rows": [
                                {"id": "3x", "title": "3x sem juros", "description": "R$ 50,00/mês"},
                                {"id": "6x", "title": "6x", "description": "R$ 26,00/mês"},
                            ],
                        }
                    ],
                },
            },
        },
    ).json()["messages"][0]["id"]

    page.goto(f"{base_url}/_sim/phone?number={number}")
    download = page.get_by_test_id("download").first
    expect(download).to_be_visible()
    href = download.get_attribute("href")
    assert href is not None
    assert httpx.get(f"{base_url}{href}").content == b"%PDF-1.4 boleto"

    page.get_by_test_id("list-button").click()
    page.get_by_test_id("list-row").filter(has_text="3x sem juros").click()
    page.get_by_test_id("composer").fill("Pode ser amanhã?")
    page.get_by_test_id("send").click()

    receiver.wait_for(lambda r: len(r.messages()) == 3)
    first, choice, typed = receiver.messages()
    assert first["text"]["body"] == "Oi, quero negociar"
    assert choice["interactive"]["list_reply"] == {
        "id": "3x",
        "title": "3x sem juros",
        "description": "R$ 50,00/mês",
    }
    assert choice["context"]["id"] == listing
    assert typed["text"]["body"] == "Pode ser amanhã?"
    assert {m["from"] for m in receiver.messages()} == {"553177776666"}
    expect(page.get_by_test_id("my-message")).to_have_count(3)
