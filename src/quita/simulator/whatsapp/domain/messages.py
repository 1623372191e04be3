"""Validation of ``POST /{phone_number_id}/messages`` bodies, with the errors Meta answers.

Only the shape is checked here; state-dependent checks (template exists, media id known, limits, window)
happen in the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quita.simulator.whatsapp.domain import errors
from quita.simulator.whatsapp.domain.identity import digits

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
FREE_FORM_TYPES = ("text", "interactive", "reaction", "location", "contacts", *MEDIA_TYPES)
ALL_TYPES = ("template", *FREE_FORM_TYPES)
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 512


@dataclass(frozen=True)
class SendRequest:
    to_input: str
    to_digits: str
    type: str
    callback_data: str | None
    context_id: str | None
    media_id: str | None = None
    template_name: str | None = None
    template_language: str | None = None


@dataclass(frozen=True)
class ReadRequest:
    message_id: str
    typing: bool


def _obj(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.required_parameter(name)
    return value


def _text(value: Any, name: str, max_len: int, *, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise errors.required_parameter(name)
        return None
    if not isinstance(value, str):
        raise errors.invalid_parameter(f"Param {name} must be a string.")
    if len(value) > max_len:
        raise errors.invalid_value(f"Param {name} must be at most {max_len} characters long.")
    return value


def _url(value: Any, name: str) -> str:
    url = _text(value, name, 2000)
    assert url is not None
    if not url.startswith(("https://", "http://")):
        raise errors.invalid_value(f"Param {name} must be a valid URL.")
    return url


def parse_read(body: dict[str, Any]) -> ReadRequest:
    message_id = _text(body.get("message_id"), "message_id", 128)
    assert message_id is not None
    typing = body.get("typing_indicator")
    if typing is not None and (not isinstance(typing, dict) or typing.get("type") != "text"):
        raise errors.invalid_parameter("typing_indicator.type must be text.")
    return ReadRequest(message_id, typing is not None)


def parse_send(body: Any) -> SendRequest:
    if not isinstance(body, dict):
        raise errors.invalid_parameter("The request body must be a JSON object.")
    if body.get("messaging_product") != "whatsapp":
        raise errors.required_parameter("messaging_product")
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type != "individual":
        raise errors.invalid_value("The simulator only models recipient_type individual.")
    to = body.get("to")
    if to is None or to == "":
        raise errors.required_parameter("to")
    if not isinstance(to, str | int):
        raise errors.invalid_parameter("Param to must be a string.")
    to_input = str(to)
    to_digits = digits(to_input)
    if not 8 <= len(to_digits) <= 15:
        raise errors.invalid_value(f"Recipient phone number {to_input!r} is not a valid phone number.")
    kind = body.get("type", "text")
    if kind not in ALL_TYPES:
        raise errors.invalid_parameter(f"Param type must be one of {{{', '.join(ALL_TYPES)}}}.")
    content = body.get(kind)
    if not isinstance(content, dict):
        raise errors.required_parameter(kind)
    callback = body.get("biz_opaque_callback_data")
    if callback is not None and (not isinstance(callback, str) or len(callback) > MAX_CALLBACK_DATA):
        raise errors.invalid_value(
            f"biz_opaque_callback_data must be a string of at most {MAX_CALLBACK_DATA}."
        )
    context = body.get("context")
    context_id = None
    if context is not None:
        context_id = _text(_obj(context, "context").get("message_id"), "context['message_id']", 128)
    media_id = None
    name = language = None
    if kind == "text":
        _text(content.get("body"), "text['body']", MAX_TEXT)
    elif kind in MEDIA_TYPES:
        media_id = _check_media(kind, content)
    elif kind == "interactive":
        _check_interactive(content)
    elif kind == "reaction":
        _text(content.get("message_id"), "reaction['message_id']", 128)
        if not isinstance(content.get("emoji", ""), str):
            raise errors.invalid_parameter("reaction['emoji'] must be a string.")
    elif kind == "template":
        name = _text(content.get("name"), "template['name']", 512)
        lang = content.get("language")
        language = _text(_obj(lang, "template['language']").get("code"), "template['language']['code']", 20)
    return SendRequest(to_input, to_digits, kind, callback, context_id, media_id, name, language)


def _check_media(kind: str, content: dict[str, Any]) -> str | None:
    link, media_id = content.get("link"), content.get("id")
    if bool(link) == bool(media_id):
        raise errors.invalid_parameter(f"Exactly one of {kind}['link'] or {kind}['id'] is required.")
    if link:
        _url(link, f"{kind}['link']")
    _text(content.get("caption"), f"{kind}['caption']", 1024, required=False)
    if kind == "document":
        _text(content.get("filename"), "document['filename']", 240, required=False)
    return str(media_id) if media_id else None


def _check_header(interactive: dict[str, Any]) -> None:
    header = interactive.get("header")
    if header is None:
        return
    header = _obj(header, "interactive['header']")
    if header.get("type") == "text":
        _text(header.get("text"), "interactive['header']['text']", 60)


def _check_interactive(interactive: dict[str, Any]) -> None:
    kind = interactive.get("type")
    if kind not in ("button", "list", "cta_url"):
        raise errors.invalid_value(
            "interactive['type'] must be one of {button, list, cta_url} in the simulator."
        )
    _check_header(interactive)
    body = _obj(interactive.get("body"), "interactive['body']")
    _text(body.get("text"), "interactive['body']['text']", 1024)
    footer = interactive.get("footer")
    if footer is not None:
        _text(_obj(footer, "interactive['footer']").get("text"), "interactive['footer']['text']", 60)
    action = _obj(interactive.get("action"), "interactive['action']")
    if kind == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise errors.invalid_value("interactive['action']['buttons'] must hold 1 to 3 buttons.")
        ids = []
        for i, button in enumerate(buttons):
            reply = _obj(_obj(button, f"buttons[{i}]").get("reply"), f"buttons[{i}]['reply']")
            if button.get("type") != "reply":
                raise errors.invalid_value(f"buttons[{i}]['type'] must be reply.")
            ids.append(_text(reply.get("id"), f"buttons[{i}]['reply']['id']", 256))
            _text(reply.get("title"), f"buttons[{i}]['reply']['title']", 20)
        if len(set(ids)) != len(ids):
            raise errors.invalid_value("Button ids must be unique.")
    elif kind == "list":
        _text(action.get("button"), "interactive['action']['button']", 20)
        sections = action.get("sections")
        if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
            raise errors.invalid_value("interactive['action']['sections'] must hold 1 to 10 sections.")
        row_ids: list[str | None] = []
        for s, section in enumerate(sections):
            section = _obj(section, f"sections[{s}]")
            _text(section.get("title"), f"sections[{s}]['title']", 24, required=len(sections) > 1)
            rows = section.get("rows")
            if not isinstance(rows, list) or not rows:
                raise errors.required_parameter(f"sections[{s}]['rows']")
            for r, row in enumerate(rows):
                row = _obj(row, f"sections[{s}]['rows'][{r}]")
                row_ids.append(_text(row.get("id"), f"rows[{r}]['id']", 200))
                _text(row.get("title"), f"rows[{r}]['title']", 24)
                _text(row.get("description"), f"rows[{r}]['description']", 72, required=False)
        if len(row_ids) > 10:
            raise errors.invalid_value("A list message holds at most 10 rows in total.")
        if len(set(row_ids)) != len(row_ids):
            raise errors.invalid_value("Row ids must be unique.")
    else:
        if action.get("name") != "cta_url":
            raise errors.invalid_value("interactive['action']['name'] must be cta_url.")
        params = _obj(action.get("parameters"), "interactive['action']['parameters']")
        _text(params.get("display_text"), "parameters['display_text']", 20)
        _url(params.get("url"), "parameters['url']")
