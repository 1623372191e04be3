"""The phone page's "Pagar" action (headless Chromium): a Pix copia e cola and a boleto linha digitável sent
to the debtor are paid from the page; the PSP fires the Pix webhook and writes the boleto's CNAB return."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from quita.payments.domain.cnab_return import parse_cnab_return
from quita.payments.domain.pix import build_static
from tests.simulator.helpers import PHONE_ID, text_body

CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() == "true"
if not IN_CI and not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
    pytest.skip("Debian chromium is not installed (mandatory when CI=true)", allow_module_level=True)
if not IN_CI:
    pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect, sync_playwright  # noqa: E402

ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
LINHA = "00190.00009 07777.777009 00087.654182 6 49000000295295"


@pytest.fixture
def page() -> Iterator[Any]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context()
        yield context.new_page()
        context.close()
        browser.close()


def test_pay_pix_and_boleto_from_the_phone(
    page: Any, base_url: str, graph: httpx.Client, control: httpx.Client, receiver: Any, tmp_path: Path
) -> None:
    control.post("/psp/reset").raise_for_status()
    control.post(
        "/psp/config", json={"pix_webhook_url": receiver.url, "cnab_dir": str(tmp_path)}
    ).raise_for_status()
    try:
        number = "5511977770000"
        control.post(
            "/inbound", json={"from": number, "type": "text", "text": "quero pagar"}
        ).raise_for_status()
        code = build_static(
            key="cobranca@acme.com.br",
            merchant_name="ACME",
            merchant_city="SAO PAULO",
            amount=Decimal("150.00"),
            txid="T42pix",
        )
        graph.post(
            f"/{PHONE_ID}/messages", json=text_body(number, f"Pix copia e cola:\n{code}")
        ).raise_for_status()
        graph.post(
            f"/{PHONE_ID}/messages", json=text_body(number, f"Linha digitável: {LINHA}")
        ).raise_for_status()

        page.goto(f"{base_url}/_sim/phone/{number}")
        pix_button = page.locator("[data-testid=pay-button][data-kind=pix]")
        expect(pix_button).to_have_text("💠 Pagar com Pix")
        pix_button.click()
        expect(pix_button).to_have_attribute("data-paid", "1")
        receiver.wait_for(lambda r: any("pix" in json.loads(body) for _, body in r.posts))
        (notification,) = [json.loads(b) for _, b in receiver.posts if "pix" in json.loads(b)]
        assert notification["pix"][0]["txid"] == "T42pix" and notification["pix"][0]["valor"] == "150.00"

        boleto_button = page.locator("[data-testid=pay-button][data-kind=boleto]")
        boleto_button.click()
        expect(boleto_button).to_have_attribute("data-paid", "1")
        (written,) = tmp_path.glob("*.ret")
        (title,) = parse_cnab_return(written.read_bytes()).titles
        assert title.is_settlement and title.amount_paid == Decimal("2952.95")
    finally:
        control.post("/psp/config", json={"pix_webhook_url": None, "cnab_dir": "psp-retornos"})
        control.post("/psp/reset")
