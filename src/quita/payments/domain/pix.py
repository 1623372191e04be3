"""Pix BR Code (EMV QRCPS-MPM): build static and dynamic payloads, parse and validate any payload.

Payloads arrive from debtors' apps, PSP responses and old documentation; many published "examples" are
broken (bad TLV lengths, stale CRCs). Validation therefore reports every problem with the tag it belongs
to, instead of stopping at the first, so an operator can see at once why a code would be refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

PIX_GUI = "br.gov.bcb.pix"
MAX_NAME = 25
MAX_CITY = 15
MAX_TXID = 25
MAX_TEMPLATE_VALUE = 99
NESTED_TAGS = frozenset({f"{n:02d}" for n in (*range(26, 52), 62, *range(80, 100))})

_TXID = re.compile(r"[A-Za-z0-9]{1,25}")
_AMOUNT = re.compile(r"\d{1,10}(\.\d{1,2})?")
_KEY_PATTERNS = (
    re.compile(r"\d{11}"),  # CPF
    re.compile(r"[0-9A-Z]{12}\d{2}"),  # CNPJ (numeric or alphanumeric)
    re.compile(r"\+[1-9]\d{9,14}"),  # phone, E.164
    re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"),  # e-mail
    re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),  # EVP
)


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def crc_hex(payload_without_crc_value: str) -> str:
    """The 4 upper-case hex digits for a payload ending in ``6304``."""
    return f"{crc16_ccitt_false(payload_without_crc_value.encode('utf-8')):04X}"


@dataclass(frozen=True, slots=True)
class PixIssue:
    tag: str  # e.g. "62.05", "63", "26"; "payload" for structural problems
    message: str  # pt-BR


class PixError(ValueError):
    """Invalid BR Code or invalid input for building one; ``tag`` is the first offending tag."""

    def __init__(self, issues: list[PixIssue]) -> None:
        self.issues = tuple(issues)
        self.tag = issues[0].tag
        super().__init__("; ".join(f"[{i.tag}] {i.message}" for i in issues))


def _tlv(tag: str, value: str) -> str:
    if len(value) > MAX_TEMPLATE_VALUE:
        raise PixError([PixIssue(tag, f"valor com {len(value)} caracteres; máximo {MAX_TEMPLATE_VALUE}")])
    return f"{tag}{len(value):02d}{value}"


def normalize_text(text: str, limit: int) -> str:
    """Accents stripped, non-printable-ASCII removed, spaces collapsed, truncated to ``limit``."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in decomposed if ch.isascii() and ch.isprintable())
    return " ".join(ascii_only.split())[:limit].rstrip()


def _format_amount(amount: Decimal) -> str:
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01"), ROUND_HALF_EVEN):
        raise PixError([PixIssue("54", f"valor {amount} inválido: positivo, no máximo 2 casas decimais")])
    text = f"{amount:.2f}"
    if len(text) > 13:
        raise PixError([PixIssue("54", "valor acima do limite de 13 caracteres")])
    return text


def _merchant_tail(merchant_name: str, merchant_city: str, postal_code: str | None) -> str:
    name = normalize_text(merchant_name, MAX_NAME)
    city = normalize_text(merchant_city, MAX_CITY)
    if not name:
        raise PixError([PixIssue("59", "nome do recebedor vazio")])
    if not city:
        raise PixError([PixIssue("60", "cidade do recebedor vazia")])
    tail = _tlv("58", "BR") + _tlv("59", name) + _tlv("60", city)
    if postal_code:
        if not re.fullmatch(r"\d{8}", postal_code):
            raise PixError([PixIssue("61", "CEP deve ter 8 dígitos")])
        tail += _tlv("61", postal_code)
    return tail


def _finish(body: str) -> str:
    body += "6304"
    return body + crc_hex(body)


def build_static(
    *,
    key: str,
    merchant_name: str,
    merchant_city: str,
    amount: Decimal | None = None,
    txid: str | None = None,
    description: str | None = None,
    postal_code: str | None = None,
) -> str:
    """Static BR Code ("Pix copia e cola") for a Pix key; description is trimmed to fit template 26."""
    key = key.strip()
    if not any(p.fullmatch(key) for p in _KEY_PATTERNS):
        raise PixError([PixIssue("26.01", f"chave Pix em formato desconhecido: {key!r}")])
    account = _tlv("00", PIX_GUI) + _tlv("01", key)
    if description:
        room = MAX_TEMPLATE_VALUE - len(account) - 4
        text = normalize_text(description, room)
        if text:
            account += _tlv("02", text)
    if len(account) > MAX_TEMPLATE_VALUE:
        raise PixError([PixIssue("26", "chave longa demais para o modelo 26")])
    reference = txid if txid else "***"
    if reference != "***" and not _TXID.fullmatch(reference):
        raise PixError(
            [PixIssue("62.05", "txid deve ter de 1 a 25 caracteres alfanuméricos (A-Z, a-z, 0-9)")]
        )
    body = _tlv("00", "01") + _tlv("26", account) + _tlv("52", "0000") + _tlv("53", "986")
    if amount is not None:
        body += _tlv("54", _format_amount(amount))
    body += _merchant_tail(merchant_name, merchant_city, postal_code) + _tlv("62", _tlv("05", reference))
    return _finish(body)


def build_dynamic(
    *,
    location_url: str,
    merchant_name: str,
    merchant_city: str,
    amount: Decimal | None = None,
    single_use: bool = True,
    postal_code: str | None = None,
) -> str:
    """Dynamic BR Code pointing to a PSP payload location (the charge itself lives at the URL)."""
    url = re.sub(r"^https?://", "", location_url.strip())
    if not url or any(ch.isspace() for ch in url):
        raise PixError([PixIssue("26.25", "URL de localização vazia ou com espaços")])
    account = _tlv("00", PIX_GUI) + _tlv("25", url)
    body = _tlv("00", "01") + _tlv("01", "12" if single_use else "11") + _tlv("26", account)
    body += _tlv("52", "0000") + _tlv("53", "986")
    if amount is not None:
        body += _tlv("54", _format_amount(amount))
    body += _merchant_tail(merchant_name, merchant_city, postal_code) + _tlv("62", _tlv("05", "***"))
    return _finish(body)


# --- parsing -----------------------------------------------------------------------------------------


def parse_tlv(text: str, prefix: str = "") -> list[tuple[str, str]]:
    """Split ``text`` into (tag, value); raises ``PixError`` at the first structural fault."""
    items: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        head = text[pos : pos + 4]
        where = f"{prefix}{head[:2]}" if len(head) >= 2 else (prefix.rstrip(".") or "payload")
        if len(head) < 4 or not head.isdigit():
            raise PixError(
                [
                    PixIssue(
                        where,
                        f"posição {pos}: esperado ID (2 dígitos) e tamanho (2 dígitos), achado {head!r}",
                    )
                ]
            )
        tag, length = head[:2], int(head[2:])
        value = text[pos + 4 : pos + 4 + length]
        if len(value) < length:
            raise PixError(
                [PixIssue(where, f"tamanho declarado {length}, mas restam apenas {len(value)} caracteres")]
            )
        items.append((tag, value))
        pos += 4 + length
    return items


Fields = dict[str, "str | dict[str, str]"]


@dataclass(frozen=True, slots=True)
class BrCode:
    """A parsed and validated Pix BR Code."""

    payload: str
    fields: Fields = field(repr=False)
    key: str | None
    location_url: str | None
    amount: Decimal | None
    txid: str
    merchant_name: str
    merchant_city: str
    description: str | None
    single_use: bool
    recurrence_url: str | None
    crc: str

    @property
    def is_dynamic(self) -> bool:
        return self.location_url is not None


def _as_dict(value: str | dict[str, str] | None) -> dict[str, str]:
    return value if isinstance(value, dict) else {}


def _as_str(value: str | dict[str, str] | None) -> str | None:
    return value if isinstance(value, str) else None


def _check_structure(payload: str) -> tuple[Fields, list[PixIssue]]:
    issues: list[PixIssue] = []
    items = parse_tlv(payload)
    fields_: Fields = {}
    for tag, value in items:
        if tag in fields_:
            issues.append(PixIssue(tag, "ID repetido"))
            continue
        if tag in NESTED_TAGS:
            sub: dict[str, str] = {}
            for sub_tag, sub_value in parse_tlv(value, prefix=f"{tag}."):
                if sub_tag in sub:
                    issues.append(PixIssue(f"{tag}.{sub_tag}", "ID repetido"))
                sub[sub_tag] = sub_value
            fields_[tag] = sub
        else:
            fields_[tag] = value
    if not items or items[0][0] != "00":
        issues.append(PixIssue("00", "o primeiro campo deve ser 00 (Payload Format Indicator)"))
    if items[-1:] and items[-1][0] != "63":
        issues.append(PixIssue("63", "o último campo deve ser 63 (CRC)"))
    return fields_, issues


def _check_crc(payload: str, found: str | None) -> list[PixIssue]:
    if found is None:
        return [PixIssue("63", "CRC ausente")]
    if not payload.endswith("6304" + found):
        return [PixIssue("63", "CRC deve ter tamanho 04 e ficar no fim")]
    if not re.fullmatch(r"[0-9A-F]{4}", found):
        return [PixIssue("63", f"CRC deve ter 4 dígitos hexadecimais maiúsculos, achado {found!r}")]
    computed = crc_hex(payload[:-4])
    if computed != found:
        return [PixIssue("63", f"CRC não confere: calculado {computed}, encontrado {found}")]
    return []


def _find_pix_account(fields_: Fields) -> tuple[str, dict[str, str]] | None:
    for tag in sorted(fields_):
        sub = fields_[tag]
        if "26" <= tag <= "51" and isinstance(sub, dict) and sub.get("00", "").lower() == PIX_GUI:
            return tag, sub
    return None


def parse_brcode(payload: str) -> BrCode:
    """Parse and validate a BR Code; raises ``PixError`` listing every problem found."""
    payload = payload.strip()
    if not payload:
        raise PixError([PixIssue("payload", "payload vazio")])
    fields_, issues = _check_structure(payload)
    issues += _check_crc(payload, _as_str(fields_.get("63")))

    if _as_str(fields_.get("00")) != "01":
        issues.append(PixIssue("00", f"esperado '01', achado {fields_.get('00')!r}"))
    initiation = _as_str(fields_.get("01"))
    if initiation is not None and initiation not in ("11", "12"):
        issues.append(PixIssue("01", f"esperado '11' ou '12', achado {initiation!r}"))

    recurrence = _as_dict(fields_.get("80"))
    recurrence_url = recurrence.get("25") if recurrence.get("00", "").lower() == PIX_GUI else None
    found = _find_pix_account(fields_)
    key = url = description = None
    if found is None:
        issues.append(PixIssue("26", f"modelo de conta Pix ausente (GUI {PIX_GUI})"))
    else:
        tag, account = found
        key, url, description = account.get("01"), account.get("25"), account.get("02")
        if key is None and url is None and recurrence_url is None:
            issues.append(PixIssue(f"{tag}.01", "falta a chave Pix (01) ou a URL de localização (25)"))
        if key is not None and url is not None:
            issues.append(PixIssue(f"{tag}.25", "chave (01) e URL (25) no mesmo código"))
        if key is not None and not any(p.fullmatch(key) for p in _KEY_PATTERNS):
            issues.append(PixIssue(f"{tag}.01", f"chave Pix em formato desconhecido: {key!r}"))
        if url is not None and ("/" not in url or url.lower().startswith("http")):
            issues.append(PixIssue(f"{tag}.25", "URL de localização deve ser host/caminho, sem https://"))

    for tag, expected in (("52", None), ("53", "986"), ("58", "BR")):
        value = _as_str(fields_.get(tag))
        if value is None:
            issues.append(PixIssue(tag, "campo obrigatório ausente"))
        elif expected is not None and value != expected:
            issues.append(PixIssue(tag, f"esperado {expected!r}, achado {value!r}"))
    mcc = _as_str(fields_.get("52"))
    if mcc is not None and not re.fullmatch(r"\d{4}", mcc):
        issues.append(PixIssue("52", f"MCC deve ter 4 dígitos, achado {mcc!r}"))

    amount: Decimal | None = None
    raw_amount = _as_str(fields_.get("54"))
    if raw_amount is not None:
        try:
            amount = Decimal(raw_amount) if _AMOUNT.fullmatch(raw_amount) else None
        except InvalidOperation:
            amount = None
        if amount is None or amount <= 0:
            issues.append(PixIssue("54", f"valor inválido {raw_amount!r}: use ponto decimal, ex. 10.00"))

    name = _as_str(fields_.get("59")) or ""
    city = _as_str(fields_.get("60")) or ""
    if not 1 <= len(name) <= MAX_NAME:
        issues.append(PixIssue("59", f"nome do recebedor deve ter de 1 a {MAX_NAME} caracteres"))
    if not 1 <= len(city) <= MAX_CITY:
        issues.append(PixIssue("60", f"cidade deve ter de 1 a {MAX_CITY} caracteres"))
    postal = _as_str(fields_.get("61"))
    if postal is not None and not re.fullmatch(r"\d{8}", postal):
        issues.append(PixIssue("61", "CEP deve ter 8 dígitos"))

    additional = fields_.get("62")
    txid = ""
    if not isinstance(additional, dict) or "05" not in additional:
        issues.append(PixIssue("62.05", "txid (62.05) ausente"))
    else:
        txid = additional["05"]
        if txid != "***" and not _TXID.fullmatch(txid):
            issues.append(PixIssue("62.05", "txid deve ser *** ou de 1 a 25 caracteres alfanuméricos"))
        if url is not None and txid != "***":
            issues.append(PixIssue("62.05", "código dinâmico deve usar txid ***"))

    if issues:
        raise PixError(issues)
    return BrCode(
        payload=payload,
        fields=fields_,
        key=key,
        location_url=url,
        amount=amount,
        txid=txid,
        merchant_name=name,
        merchant_city=city,
        description=description,
        single_use=initiation == "12",
        recurrence_url=recurrence_url,
        crc=payload[-4:],
    )
