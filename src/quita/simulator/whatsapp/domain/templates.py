"""Message templates: definitions as created through ``message_templates``, send-time checks, rendering.

A template send is only valid against its approved definition (name + exact language), and Meta rejects a
parameter count that differs from the placeholders (132000). The simulator keeps the definitions so it can
check that and render ``{{1}}``/``{{name}}`` into the text the debtor would see on the phone page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from quita.simulator.whatsapp.domain import errors

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_MEDIA_FORMATS = {"IMAGE", "DOCUMENT", "VIDEO"}
CATEGORIES = {"UTILITY", "MARKETING", "AUTHENTICATION"}


def placeholders(text: str) -> list[str]:
    """Distinct placeholder names in order of first appearance."""
    seen: list[str] = []
    for name in _PLACEHOLDER.findall(text or ""):
        if name not in seen:
            seen.append(name)
    return seen


@dataclass(frozen=True)
class TemplateDefinition:
    id: str
    name: str
    language: str
    category: str
    status: str
    parameter_format: str
    components: tuple[dict[str, Any], ...]

    def component(self, kind: str) -> dict[str, Any] | None:
        return next((c for c in self.components if c.get("type") == kind), None)

    def buttons(self) -> list[dict[str, Any]]:
        block = self.component("BUTTONS")
        return list(block.get("buttons", [])) if block else []

    def to_graph(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "parameter_format": self.parameter_format,
            "components": [dict(c) for c in self.components],
        }


def parse_definition(data: Any, template_id: str) -> TemplateDefinition:
    """Validates a ``message_templates`` creation body (Meta's shape) into a definition."""
    if not isinstance(data, dict):
        raise errors.invalid_parameter("Template body must be a JSON object.")
    for key in ("name", "language", "category", "components"):
        if not data.get(key):
            raise errors.required_parameter(key)
    name, language = data["name"], data["language"]
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,512}", name):
        raise errors.invalid_parameter("Template name may only contain lowercase letters, digits and _.")
    if not isinstance(language, str):
        raise errors.invalid_parameter("language must be a string such as pt_BR.")
    category = str(data["category"]).upper()
    if category not in CATEGORIES:
        raise errors.invalid_parameter(f"category must be one of {sorted(CATEGORIES)}.")
    components = data["components"]
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise errors.invalid_parameter("components must be a list of objects.")
    normalised: list[dict[str, Any]] = []
    for comp in components:
        kind = str(comp.get("type", "")).upper()
        if kind not in {"HEADER", "BODY", "FOOTER", "BUTTONS"}:
            raise errors.invalid_parameter(f"Unknown component type {comp.get('type')!r}.")
        fixed = {**comp, "type": kind}
        if kind == "HEADER":
            fixed["format"] = str(comp.get("format", "TEXT")).upper()
        if kind == "BUTTONS":
            fixed["buttons"] = [
                {**b, "type": str(b.get("type", "")).upper()} for b in comp.get("buttons", [])
            ]
        normalised.append(fixed)
    if not any(c["type"] == "BODY" for c in normalised):
        raise errors.invalid_parameter("A template needs a BODY component.")
    fmt = str(data.get("parameter_format", "POSITIONAL")).upper()
    if fmt not in {"POSITIONAL", "NAMED"}:
        raise errors.invalid_parameter("parameter_format must be POSITIONAL or NAMED.")
    return TemplateDefinition(template_id, name, language, category, "APPROVED", fmt, tuple(normalised))


def _value(param: dict[str, Any]) -> str:
    kind = param.get("type")
    if kind == "text":
        return str(param.get("text", ""))
    if kind in ("currency", "date_time"):
        inner = param.get(str(kind)) or {}
        return str(inner.get("fallback_value", "")) if isinstance(inner, dict) else ""
    if kind == "payload":
        return str(param.get("payload", ""))
    return str(param.get(str(kind), ""))


def _sent_components(sent: Any) -> list[dict[str, Any]]:
    if sent is None:
        return []
    if not isinstance(sent, list) or not all(isinstance(c, dict) for c in sent):
        raise errors.invalid_parameter("template.components must be a list of objects.")
    return sent


def _params(comp: dict[str, Any] | None) -> list[dict[str, Any]]:
    if comp is None:
        return []
    params = comp.get("parameters", [])
    if not isinstance(params, list) or not all(isinstance(p, dict) for p in params):
        raise errors.invalid_parameter("parameters must be a list of objects.")
    return params


def _check_text_params(label: str, text: str, params: list[dict[str, Any]], named: bool) -> None:
    expected = placeholders(text)
    if len(params) != len(expected):
        raise errors.template_param_mismatch(label, len(params), len(expected))
    for param in params:
        if param.get("type") not in ("text", "currency", "date_time"):
            raise errors.template_param_format(f"{label}: parameter type {param.get('type')!r} is not text.")
    if named:
        given = {p.get("parameter_name") for p in params}
        if given != set(expected):
            raise errors.template_param_mismatch(label, len(given & set(expected)), len(expected))


def _find(sent: list[dict[str, Any]], kind: str, index: int | None = None) -> dict[str, Any] | None:
    for comp in sent:
        if str(comp.get("type", "")).lower() != kind:
            continue
        if index is None or str(comp.get("index")) == str(index):
            return comp
    return None


def validate_send(definition: TemplateDefinition, sent_components: Any) -> None:
    """Raises the GraphError Meta would answer for a send whose parameters don't fit ``definition``."""
    sent = _sent_components(sent_components)
    named = definition.parameter_format == "NAMED"
    header = definition.component("HEADER")
    sent_header = _params(_find(sent, "header"))
    if header and header.get("format") in _MEDIA_FORMATS:
        media = str(header["format"]).lower()
        if len(sent_header) != 1:
            raise errors.template_param_mismatch("header", len(sent_header), 1)
        if sent_header[0].get("type") != media or not isinstance(sent_header[0].get(media), dict):
            raise errors.template_param_format(f"header: expected a {media} parameter.")
    else:
        _check_text_params("header", str(header.get("text", "")) if header else "", sent_header, named)
    body = definition.component("BODY") or {}
    _check_text_params("body", str(body.get("text", "")), _params(_find(sent, "body")), named)
    for index, button in enumerate(definition.buttons()):
        comp = _find(sent, "button", index)
        if button.get("type") == "URL":
            expected = len(placeholders(str(button.get("url", ""))))
            given = len(_params(comp))
            if given != expected:
                raise errors.template_param_mismatch(f"buttons[{index}]", given, expected)
    known = {"header", "body", "button"}
    for comp in sent:
        if str(comp.get("type", "")).lower() not in known:
            raise errors.invalid_parameter(f"Unknown template component type {comp.get('type')!r}.")


def _fill(text: str, params: list[dict[str, Any]], named: bool) -> str:
    if named:
        values = {str(p.get("parameter_name")): _value(p) for p in params}
    else:
        values = {str(i): _value(p) for i, p in enumerate(params, start=1)}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def render(definition: TemplateDefinition, sent_components: Any) -> dict[str, Any]:
    """What the debtor sees: header, body, footer and buttons with the send's parameters filled in."""
    sent = _sent_components(sent_components)
    named = definition.parameter_format == "NAMED"
    out: dict[str, Any] = {"name": definition.name, "language": definition.language, "header": None}
    header = definition.component("HEADER")
    header_params = _params(_find(sent, "header"))
    if header and header.get("format") in _MEDIA_FORMATS:
        media = str(header["format"]).lower()
        value = header_params[0].get(media, {}) if header_params else {}
        out["header"] = {"type": media, **(value if isinstance(value, dict) else {})}
    elif header:
        out["header"] = {"type": "text", "text": _fill(str(header.get("text", "")), header_params, named)}
    body = definition.component("BODY") or {}
    out["body"] = _fill(str(body.get("text", "")), _params(_find(sent, "body")), named)
    footer = definition.component("FOOTER")
    out["footer"] = str(footer.get("text", "")) if footer else None
    buttons: list[dict[str, Any]] = []
    for index, button in enumerate(definition.buttons()):
        comp = _find(sent, "button", index)
        params = _params(comp)
        kind = str(button.get("type", "")).lower()
        rendered: dict[str, Any] = {"type": kind, "text": str(button.get("text", ""))}
        if kind == "quick_reply":
            payload = next((p.get("payload") for p in params if p.get("type") == "payload"), None)
            rendered["payload"] = str(payload) if payload is not None else rendered["text"]
        elif kind == "url":
            rendered["url"] = _fill(str(button.get("url", "")), params, False)
        elif kind == "phone_number":
            rendered["phone_number"] = str(button.get("phone_number", ""))
        buttons.append(rendered)
    out["buttons"] = buttons
    return out
