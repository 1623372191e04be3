"""Configuration of the fake Cloud API and bodies of the control API (``/_sim/...``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class PhoneNumberConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number_id: str = Field(default="100000000000001", pattern=r"^\d{5,20}$")
    display_phone_number: str = Field(default="5511999990000", pattern=r"^\d{8,15}$")
    verified_name: str = "Quita Simulador"


class SimConfig(BaseModel):
    """Everything tunable at launch (CLI) or at run time (``POST /_sim/config``, partial updates)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    token: str = Field(default="sim-token", min_length=1)
    app_secret: str = Field(default="sim-app-secret", min_length=1)
    waba_id: str = Field(default="200000000000001", pattern=r"^\d{5,20}$")
    phone_numbers: list[PhoneNumberConfig] = Field(
        default_factory=lambda: [PhoneNumberConfig()], min_length=1
    )
    webhook_url: str | None = None
    seed: int | None = None

    # Limits
    throughput_mps: int = Field(default=80, ge=1, le=1000)
    pair_interval_s: float = Field(default=6.0, gt=0, le=3600)
    pair_burst: int = Field(default=5, ge=1, le=100)
    enforce_window: bool = True
    window_hours: float = Field(default=24.0, gt=0)

    # Who the recipients are
    undeliverable_numbers: list[str] = Field(default_factory=list)
    legacy_wa_id_min_ddd: int | None = Field(default=31, ge=11, le=99)
    legacy_wa_id_numbers: list[str] = Field(default_factory=list)
    modern_wa_id_numbers: list[str] = Field(default_factory=list)

    # Latency and faults on POST /messages (rates are probabilities per request)
    latency_ms: float = Field(default=0.0, ge=0, le=60_000)
    latency_jitter_ms: float = Field(default=0.0, ge=0, le=60_000)
    fault_5xx_rate: float = Field(default=0.0, ge=0, le=1)
    fault_timeout_rate: float = Field(default=0.0, ge=0, le=1)
    fault_timeout_s: float = Field(default=30.0, ge=0, le=600)
    fault_drop_rate: float = Field(default=0.0, ge=0, le=1)

    # Status lifecycle (seconds after acceptance) and webhooks
    sent_delay_s: float = Field(default=0.2, ge=0, le=3600)
    delivered_delay_s: float = Field(default=0.6, ge=0, le=3600)
    read_delay_s: float = Field(default=2.0, ge=0, le=86400)
    read_rate: float = Field(default=1.0, ge=0, le=1)
    status_webhooks: Literal["all", "sampled", "off"] = "all"
    status_sample_rate: float = Field(default=0.1, ge=0, le=1)
    include_conversation: bool = True
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    out_of_order_rate: float = Field(default=0.0, ge=0, le=1)
    webhook_batch_size: int = Field(default=1, ge=1, le=1000)
    webhook_workers: int = Field(default=4, ge=1, le=64)
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(default=5, ge=1, le=50)
    webhook_retry_base_s: float = Field(default=0.5, ge=0, le=3600)

    # Starter templates, in the shape of a message_templates creation body
    templates: list[dict[str, Any]] = Field(default_factory=list)
    max_messages: int = Field(default=500_000, ge=100)


class InboundMessage(BaseModel):
    """What the debtor does on their phone (``POST /_sim/inbound``)."""

    model_config = ConfigDict(extra="forbid")

    from_: str = Field(alias="from", min_length=8, max_length=20)
    type: Literal["text", "button", "button_reply", "list_reply", "document", "image", "reaction"]
    name: str = Field(default="Cliente", max_length=100)
    phone_number_id: str | None = None
    context: str | None = Field(default=None, description="wamid of the business message being answered")
    text: str | None = Field(default=None, max_length=4096)
    payload: str | None = Field(default=None, max_length=256)
    id: str | None = Field(default=None, max_length=256)
    title: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=100)
    filename: str | None = Field(default=None, max_length=240)
    mime_type: str | None = Field(default=None, max_length=100)
    data_base64: str | None = None
    caption: str | None = Field(default=None, max_length=1024)
    message_id: str | None = None
    emoji: str | None = None
