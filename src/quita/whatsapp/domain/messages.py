"""Outbound message payloads as validated dataclasses that render Meta's JSON.

An invalid message cannot be constructed: each dataclass checks Meta's limits in ``__post_init__`` and
raises :class:`InvalidMessage` naming the field. The client, the simulator and the dispatcher share these
builders so "what we send" has one definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from quita.whatsapp.domain import limits
from quita.whatsapp.domain.errors import InvalidMessage

JSON = dict[str, Any]

_PHONE = re.compile(r"^\+?\d{8,15}$")
# Business-scoped user id, e.g. "BR.1502576394655843" (country + "." + digits; parents "US.ENT.…").
_BSUID = re.compile(r"^[A-Z]{2}(\.[A-Z]+)?\.[0-9A-Za-z]+$")


def _text(field_name: str, value: object, max_len: int, *, required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise InvalidMessage(field_name, "must be text")
    if required and not value.strip():
        raise InvalidMessage(field_name, "must not be empty")
    if len(value) > max_len:
        raise InvalidMessage(field_name, f"has {len(value)} characters; the limit is {max_len}")


def _link(field_name: str, value: str) -> None:
    if not isinstance(value, str) or not re.match(r"^https?://\S+$", value):
        raise InvalidMessage(field_name, "must be an http(s) URL")


def _one_source(field_name: str, link: str | None, media_id: str | None) -> None:
    if (link is None) == (media_id is None):
        raise InvalidMessage(field_name, "give exactly one of link or media_id")
    if link is not None:
        _link(f"{field_name}.link", link)
    elif not isinstance(media_id, str) or not media_id.strip():
        raise InvalidMessage(f"{field_name}.media_id", "must not be empty")


def _media_object(link: str | None, media_id: str | None) -> JSON:
    return {"link": link} if link is not None else {"id": media_id}


def format_brl(amount_cents: int) -> str:
    """``123456`` -> ``"R$ 1.234,56"`` (the fallback Meta shows when it cannot localise)."""
    sign = "-" if amount_cents < 0 else ""
    reais, cents = divmod(abs(amount_cents), 100)
    return f"{sign}R$ {reais:,}".replace(",", ".") + f",{cents:02d}"


# --------------------------------------------------------------------------- template parameters


@dataclass(frozen=True, slots=True)
class TextParam:
    text: str
    name: str | None = None  # set for named-parameter templates ({{customer_name}})

    def __post_init__(self) -> None:
        _text("template.parameter.text", self.text, limits.TEXT_BODY_MAX)

    def to_json(self) -> JSON:
        return _named({"type": "text", "text": self.text}, self.name)


@dataclass(frozen=True, slots=True)
class CurrencyParam:
    """Money as integer cents: Meta wants ``amount_1000`` (amount × 1000), never a float."""

    amount_cents: int
    currency: str = "BRL"
    fallback_value: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.amount_cents, bool) or not isinstance(self.amount_cents, int):
            raise InvalidMessage("template.parameter.currency.amount_cents", "must be integer cents")
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise InvalidMessage("template.parameter.currency.code", "must be an ISO 4217 code like BRL")
        if self.fallback_value is not None:
            _text("template.parameter.currency.fallback_value", self.fallback_value, 100)

    def to_json(self) -> JSON:
        fallback = self.fallback_value
        if fallback is None:
            fallback = (
                format_brl(self.amount_cents) if self.currency == "BRL" else f"{self.amount_cents / 100}"
            )
        currency = {"fallback_value": fallback, "code": self.currency, "amount_1000": self.amount_cents * 10}
        return _named({"type": "currency", "currency": currency}, self.name)


@dataclass(frozen=True, slots=True)
class DateTimeParam:
    fallback_value: str
    name: str | None = None

    def __post_init__(self) -> None:
        _text("template.parameter.date_time.fallback_value", self.fallback_value, 100)

    @classmethod
    def from_date(cls, value: date, name: str | None = None) -> DateTimeParam:
        """A Brazilian ``dd/mm/aaaa`` date."""
        return cls(value.strftime("%d/%m/%Y"), name)

    def to_json(self) -> JSON:
        return _named({"type": "date_time", "date_time": {"fallback_value": self.fallback_value}}, self.name)


@dataclass(frozen=True, slots=True)
class DocumentParam:
    """Template header document (e.g. the boleto PDF)."""

    link: str | None = None
    media_id: str | None = None
    filename: str | None = None

    def __post_init__(self) -> None:
        _one_source("template.header.document", self.link, self.media_id)
        _text("template.header.document.filename", self.filename, 240, required=False)

    def to_json(self) -> JSON:
        document = _media_object(self.link, self.media_id)
        if self.filename:
            document["filename"] = self.filename
        return {"type": "document", "document": document}


@dataclass(frozen=True, slots=True)
class ImageParam:
    link: str | None = None
    media_id: str | None = None

    def __post_init__(self) -> None:
        _one_source("template.header.image", self.link, self.media_id)

    def to_json(self) -> JSON:
        return {"type": "image", "image": _media_object(self.link, self.media_id)}


BodyParam = TextParam | CurrencyParam | DateTimeParam
HeaderParam = TextParam | DocumentParam | ImageParam


def _named(payload: JSON, name: str | None) -> JSON:
    if name is not None:
        payload["parameter_name"] = name
    return payload


@dataclass(frozen=True, slots=True)
class QuickReplyButtonParam:
    index: int
    payload: str

    def __post_init__(self) -> None:
        _button_index(self.index)
        _text("template.button.payload", self.payload, limits.REPLY_BUTTON_ID_MAX)

    def to_json(self) -> JSON:
        return {
            "type": "button",
            "sub_type": "quick_reply",
            "index": str(self.index),
            "parameters": [{"type": "payload", "payload": self.payload}],
        }


@dataclass(frozen=True, slots=True)
class UrlButtonParam:
    """The dynamic suffix of a URL button (``https://pay.example/{{1}}``)."""

    index: int
    text: str

    def __post_init__(self) -> None:
        _button_index(self.index)
        _text("template.button.url_suffix", self.text, 2000)

    def to_json(self) -> JSON:
        return {
            "type": "button",
            "sub_type": "url",
            "index": str(self.index),
            "parameters": [{"type": "text", "text": self.text}],
        }


ButtonParam = QuickReplyButtonParam | UrlButtonParam


def _button_index(index: object) -> None:
    if (
        isinstance(index, bool)
        or not isinstance(index, int)
        or not 0 <= index <= limits.TEMPLATE_BUTTON_INDEX_MAX
    ):
        raise InvalidMessage(
            "template.button.index", f"must be an integer 0..{limits.TEMPLATE_BUTTON_INDEX_MAX}"
        )


# --------------------------------------------------------------------------- message types


@dataclass(frozen=True, slots=True)
class TemplateMessage:
    """The only message type allowed outside the 24 h customer-service window."""

    name: str
    language: str = "pt_BR"
    header: HeaderParam | None = None
    body: tuple[BodyParam, ...] = ()
    buttons: tuple[ButtonParam, ...] = ()

    def __post_init__(self) -> None:
        _text("template.name", self.name, limits.TEMPLATE_NAME_MAX)
        if not re.fullmatch(r"[a-z0-9_]+", self.name):
            raise InvalidMessage("template.name", "must be lowercase letters, digits and underscores")
        if not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", self.language):
            raise InvalidMessage("template.language", "must be a code like pt_BR or en")
        named = [p.name is not None for p in self.body]
        if any(named) and not all(named):
            raise InvalidMessage("template.body", "mixes named and positional parameters")
        names = [p.name for p in self.body if p.name is not None]
        if len(names) != len(set(names)):
            raise InvalidMessage("template.body", "repeats a parameter name")
        indexes = [b.index for b in self.buttons]
        if len(indexes) != len(set(indexes)):
            raise InvalidMessage("template.buttons", "repeats a button index")

    def to_json(self) -> JSON:
        components: list[JSON] = []
        if self.header is not None:
            components.append({"type": "header", "parameters": [self.header.to_json()]})
        if self.body:
            components.append({"type": "body", "parameters": [p.to_json() for p in self.body]})
        components.extend(b.to_json() for b in self.buttons)
        template: JSON = {"name": self.name, "language": {"policy": "deterministic", "code": self.language}}
        if components:
            template["components"] = components
        return {"type": "template", "template": template}


@dataclass(frozen=True, slots=True)
class TextMessage:
    body: str
    preview_url: bool = False

    def __post_init__(self) -> None:
        _text("text.body", self.body, limits.TEXT_BODY_MAX)

    def to_json(self) -> JSON:
        return {"type": "text", "text": {"preview_url": self.preview_url, "body": self.body}}


@dataclass(frozen=True, slots=True)
class ReplyButton:
    id: str
    title: str

    def __post_init__(self) -> None:
        _text("interactive.button.id", self.id, limits.REPLY_BUTTON_ID_MAX)
        _text("interactive.button.title", self.title, limits.REPLY_BUTTON_TITLE_MAX)


def _interactive_frame(kind: str, body: str, header_text: str | None, footer: str | None) -> JSON:
    interactive: JSON = {"type": kind}
    if header_text is not None:
        interactive["header"] = {"type": "text", "text": header_text}
    interactive["body"] = {"text": body}
    if footer is not None:
        interactive["footer"] = {"text": footer}
    return interactive


def _check_frame(body: str, header_text: str | None, footer: str | None) -> None:
    _text("interactive.body", body, limits.INTERACTIVE_BODY_MAX)
    _text("interactive.header", header_text, limits.HEADER_TEXT_MAX, required=False)
    _text("interactive.footer", footer, limits.FOOTER_TEXT_MAX, required=False)


@dataclass(frozen=True, slots=True)
class ReplyButtonsMessage:
    body: str
    buttons: tuple[ReplyButton, ...]
    header_text: str | None = None
    footer: str | None = None

    def __post_init__(self) -> None:
        _check_frame(self.body, self.header_text, self.footer)
        if not 1 <= len(self.buttons) <= limits.REPLY_BUTTONS_MAX:
            raise InvalidMessage("interactive.buttons", f"needs 1 to {limits.REPLY_BUTTONS_MAX} buttons")
        ids = [b.id for b in self.buttons]
        if len(ids) != len(set(ids)):
            raise InvalidMessage("interactive.buttons", "button ids must be unique")
        titles = [b.title for b in self.buttons]
        if len(titles) != len(set(titles)):
            raise InvalidMessage("interactive.buttons", "button titles must be unique")

    def to_json(self) -> JSON:
        interactive = _interactive_frame("button", self.body, self.header_text, self.footer)
        interactive["action"] = {
            "buttons": [{"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in self.buttons]
        }
        return {"type": "interactive", "interactive": interactive}


@dataclass(frozen=True, slots=True)
class ListRow:
    id: str
    title: str
    description: str | None = None

    def __post_init__(self) -> None:
        _text("interactive.row.id", self.id, limits.LIST_ROW_ID_MAX)
        _text("interactive.row.title", self.title, limits.LIST_ROW_TITLE_MAX)
        _text(
            "interactive.row.description", self.description, limits.LIST_ROW_DESCRIPTION_MAX, required=False
        )

    def to_json(self) -> JSON:
        row: JSON = {"id": self.id, "title": self.title}
        if self.description is not None:
            row["description"] = self.description
        return row


@dataclass(frozen=True, slots=True)
class ListSection:
    title: str | None
    rows: tuple[ListRow, ...]

    def __post_init__(self) -> None:
        _text("interactive.section.title", self.title, limits.LIST_SECTION_TITLE_MAX, required=False)
        if not self.rows:
            raise InvalidMessage("interactive.section.rows", "a section needs at least one row")

    def to_json(self) -> JSON:
        section: JSON = {"rows": [r.to_json() for r in self.rows]}
        if self.title is not None:
            section["title"] = self.title
        return section


@dataclass(frozen=True, slots=True)
class ListMessage:
    body: str
    button: str
    sections: tuple[ListSection, ...]
    header_text: str | None = None
    footer: str | None = None

    def __post_init__(self) -> None:
        _check_frame(self.body, self.header_text, self.footer)
        _text("interactive.action.button", self.button, limits.LIST_BUTTON_TEXT_MAX)
        if not 1 <= len(self.sections) <= limits.LIST_SECTIONS_MAX:
            raise InvalidMessage("interactive.sections", f"needs 1 to {limits.LIST_SECTIONS_MAX} sections")
        rows = [r for s in self.sections for r in s.rows]
        if len(rows) > limits.LIST_ROWS_TOTAL_MAX:
            raise InvalidMessage(
                "interactive.sections",
                f"has {len(rows)} rows; the limit is {limits.LIST_ROWS_TOTAL_MAX} in total",
            )
        if len({r.id for r in rows}) != len(rows):
            raise InvalidMessage("interactive.sections", "row ids must be unique")
        if len(self.sections) > 1 and any(s.title is None for s in self.sections):
            raise InvalidMessage("interactive.section.title", "required when there is more than one section")

    def to_json(self) -> JSON:
        interactive = _interactive_frame("list", self.body, self.header_text, self.footer)
        interactive["action"] = {"button": self.button, "sections": [s.to_json() for s in self.sections]}
        return {"type": "interactive", "interactive": interactive}


@dataclass(frozen=True, slots=True)
class CtaUrlMessage:
    """One URL button (e.g. "Pagar agora" to the payment page)."""

    body: str
    display_text: str
    url: str
    header_text: str | None = None
    footer: str | None = None

    def __post_init__(self) -> None:
        _check_frame(self.body, self.header_text, self.footer)
        _text("interactive.action.display_text", self.display_text, limits.CTA_DISPLAY_TEXT_MAX)
        _link("interactive.action.url", self.url)

    def to_json(self) -> JSON:
        interactive = _interactive_frame("cta_url", self.body, self.header_text, self.footer)
        interactive["action"] = {
            "name": "cta_url",
            "parameters": {"display_text": self.display_text, "url": self.url},
        }
        return {"type": "interactive", "interactive": interactive}


@dataclass(frozen=True, slots=True)
class DocumentMessage:
    link: str | None = None
    media_id: str | None = None
    filename: str | None = None
    caption: str | None = None

    def __post_init__(self) -> None:
        _one_source("document", self.link, self.media_id)
        _text("document.filename", self.filename, 240, required=False)
        _text("document.caption", self.caption, limits.MEDIA_CAPTION_MAX, required=False)

    def to_json(self) -> JSON:
        document = _media_object(self.link, self.media_id)
        if self.filename is not None:
            document["filename"] = self.filename
        if self.caption is not None:
            document["caption"] = self.caption
        return {"type": "document", "document": document}


Message = TemplateMessage | TextMessage | ReplyButtonsMessage | ListMessage | CtaUrlMessage | DocumentMessage


def is_free_form(message: Message) -> bool:
    """Everything but templates needs an open customer-service window."""
    return not isinstance(message, TemplateMessage)


@dataclass(frozen=True, slots=True)
class Recipient:
    """A phone number (``to``) or, since 2026, a business-scoped user id (``recipient``)."""

    value: str
    is_bsuid: bool = field(default=False)

    @classmethod
    def parse(cls, value: str) -> Recipient:
        if not isinstance(value, str):
            raise InvalidMessage("to", "must be text")
        cleaned = value.strip()
        if _BSUID.fullmatch(cleaned):
            return cls(cleaned, True)
        digits = re.sub(r"[\s()\-.]", "", cleaned)
        if not _PHONE.fullmatch(digits):
            raise InvalidMessage("to", "must be an international number (8 to 15 digits) or a BSUID")
        return cls(digits.lstrip("+"), False)


def build_message_payload(
    to: str | Recipient,
    message: Message,
    *,
    biz_opaque_callback_data: str,
    reply_to: str | None = None,
) -> JSON:
    """The full POST body for ``/{phone-number-id}/messages``.

    ``biz_opaque_callback_data`` is mandatory: it is our own message id, echoed in status webhooks, the
    only way to reconcile a send whose response was lost.
    """
    recipient = to if isinstance(to, Recipient) else Recipient.parse(to)
    _text("biz_opaque_callback_data", biz_opaque_callback_data, limits.BIZ_OPAQUE_CALLBACK_DATA_MAX)
    payload: JSON = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    payload["recipient" if recipient.is_bsuid else "to"] = recipient.value
    if reply_to is not None:
        _text("context.message_id", reply_to, limits.WAMID_MAX)
        payload["context"] = {"message_id": reply_to}
    payload.update(message.to_json())
    payload["biz_opaque_callback_data"] = biz_opaque_callback_data
    return payload


def build_mark_read_payload(message_id: str, *, typing_indicator: bool = False) -> JSON:
    """Blue ticks for an inbound message, optionally with the "typing…" indicator."""
    _text("message_id", message_id, limits.WAMID_MAX)
    payload: JSON = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
    if typing_indicator:
        payload["typing_indicator"] = {"type": "text"}
    return payload
