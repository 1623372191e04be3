"""Configuration of the fake PSP (CLI flags or ``POST /_sim/psp/config``) and control bodies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class PspConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    client_id: str = Field(default="sim-client", min_length=1)
    client_secret: str = Field(default="sim-secret", min_length=1)
    token_ttl_s: int = Field(default=3600, ge=1, le=86400)
    # Where Pix notifications go when no webhook was registered with PUT /v2/webhook/{chave}
    # (``/pix`` is appended to the path, as the API Pix does).
    pix_webhook_url: str | None = None
    # Sent as ``X-Webhook-Secret`` with every notification (Quita's shared-secret check).
    pix_webhook_secret: str | None = None
    # Where CNAB 240 returns of paid boletos are written (for ``quita payments import``).
    cnab_dir: str = "psp-retornos"
    public_base_url: str = "http://127.0.0.1:8081/psp"
    merchant_name: str = "Credor Simulado"
    merchant_city: str = "Sao Paulo"


class PayRequest(BaseModel):
    """What the debtor pays: a BR Code (copia e cola), a txid, or a boleto's linha digitável / barcode."""

    model_config = ConfigDict(extra="forbid")

    brcode: str | None = Field(default=None, max_length=600)
    txid: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{1,35}$")
    linha_digitavel: str | None = Field(default=None, max_length=80)
    amount: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    paid_on: date | None = None
    payer_name: str = Field(default="Pagador Simulado", max_length=140)
