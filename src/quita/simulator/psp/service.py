"""State of the fake PSP: OAuth tokens, Pix charges (cob/cobv), registered webhooks, paid boletos."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from quita.payments.domain.pix import PixError, build_dynamic, parse_brcode
from quita.simulator.psp.domain.boleto import BoletoReadError, read_slip
from quita.simulator.psp.domain.cnab240 import ReturnTitle, build_return_240
from quita.simulator.psp.schemas import PayRequest, PspConfig

BRAZIL = dt.timezone(dt.timedelta(hours=-3))
ISPB = "99999999"


class PspError(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail

    def problem(self) -> dict[str, Any]:
        return {
            "type": f"https://pix.bcb.gov.br/api/v2/error/{self.title}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }


@dataclass
class SimCharge:
    txid: str
    kind: str  # cob | cobv
    body: dict[str, Any]
    location: str
    brcode: str
    created: dt.datetime
    status: str = "ATIVA"
    revisao: int = 0
    pix: list[dict[str, Any]] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        calendario = dict(self.body.get("calendario", {}))
        calendario["criacao"] = self.created.isoformat()
        return {
            **self.body,
            "txid": self.txid,
            "revisao": self.revisao,
            "status": self.status,
            "calendario": calendario,
            "location": self.location,
            "loc": {
                "id": abs(hash(self.location)) % 10**9,
                "location": self.location,
                "tipoCob": self.kind,
                "criacao": self.created.isoformat(),
            },
            "pixCopiaECola": self.brcode,
            "pix": list(self.pix),
        }


@dataclass
class Notification:
    url: str
    body: dict[str, Any]


class PspSimulator:
    def __init__(self, config: PspConfig | None = None) -> None:
        self.config = config or PspConfig()
        self._lock = threading.Lock()
        self.tokens: dict[str, float] = {}
        self.charges: dict[str, SimCharge] = {}
        self.by_location: dict[str, str] = {}
        self.webhooks: dict[str, str] = {}
        self.received: list[dict[str, Any]] = []
        self.return_files: list[str] = []
        self._file_seq = 0

    def reset(self) -> None:
        with self._lock:
            self.tokens.clear()
            self.charges.clear()
            self.by_location.clear()
            self.webhooks.clear()
            self.received.clear()
            self.return_files.clear()

    # --- OAuth -----------------------------------------------------------------------------------------

    def issue_token(self, client_id: str, client_secret: str) -> dict[str, Any]:
        ok_id = secrets.compare_digest(client_id.encode(), self.config.client_id.encode())
        ok_secret = secrets.compare_digest(client_secret.encode(), self.config.client_secret.encode())
        if not (ok_id and ok_secret):
            raise PspError(401, "AcessoNegado", "credenciais do cliente inválidas")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = time.monotonic() + self.config.token_ttl_s
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.config.token_ttl_s,
            "scope": "cob.read cob.write cobv.read cobv.write pix.read webhook.read webhook.write",
        }

    def check_token(self, authorization: str | None) -> None:
        token = (authorization or "").removeprefix("Bearer ").strip()
        expiry = self.tokens.get(token)
        if not token or expiry is None or expiry < time.monotonic():
            raise PspError(401, "AcessoNegado", "token ausente, inválido ou expirado")

    # --- charges ---------------------------------------------------------------------------------------

    def put_charge(self, kind: str, txid: str, body: dict[str, Any]) -> SimCharge:
        problems = _validate(kind, body)
        if problems:
            raise PspError(400, f"{'CobV' if kind == 'cobv' else 'Cob'}OperacaoInvalida", "; ".join(problems))
        with self._lock:
            if txid in self.charges:
                raise PspError(409, "CobVOperacaoInvalida", f"txid {txid} já utilizado")
            location = f"{self.config.public_base_url.rstrip('/')}/qr/v2/{kind}/{secrets.token_hex(16)}"
            brcode = build_dynamic(
                location_url=location,
                merchant_name=self.config.merchant_name,
                merchant_city=self.config.merchant_city,
                amount=None,
            )
            charge = SimCharge(txid, kind, body, location, brcode, dt.datetime.now(dt.UTC))
            self.charges[txid] = charge
            self.by_location[location.split("://", 1)[-1]] = txid
        return charge

    def get_charge(self, kind: str, txid: str) -> SimCharge:
        charge = self.charges.get(txid)
        if charge is None or charge.kind != kind:
            raise PspError(
                404,
                "CobVNaoEncontrada" if kind == "cobv" else "CobNaoEncontrada",
                f"txid {txid} não encontrado",
            )
        return charge

    def register_webhook(self, key: str, url: str) -> None:
        with self._lock:
            self.webhooks[key] = url

    # --- paying ----------------------------------------------------------------------------------------

    def pay_pix(self, request: PayRequest) -> tuple[dict[str, Any], Notification | None]:
        txid, amount, key = request.txid, request.amount, None
        if request.brcode:
            try:
                code = parse_brcode(request.brcode.strip())
            except PixError as exc:
                raise PspError(400, "BrCodeInvalido", str(exc)) from None
            if code.location_url:
                txid = self.by_location.get(code.location_url.split("://", 1)[-1])
                if txid is None:
                    raise PspError(404, "LocationNaoEncontrada", "QR dinâmico de outro PSP: não simulado")
            else:
                txid = None if code.txid == "***" else code.txid
                key = code.key
                amount = amount or code.amount
        charge = self.charges.get(txid) if txid else None
        if charge is not None:
            if charge.status != "ATIVA":
                raise PspError(409, "CobrancaNaoAtiva", f"cobrança {charge.txid} está {charge.status}")
            amount = amount or Decimal(charge.body["valor"]["original"])
            key = charge.body.get("chave")
        if amount is None:
            raise PspError(400, "ValorAusente", "informe amount: o código não traz valor")
        now = dt.datetime.now(BRAZIL).replace(microsecond=0)
        e2e = f"E{ISPB}{now.strftime('%Y%m%d%H%M')}{secrets.token_hex(6)}"[:32].ljust(32, "0")
        item: dict[str, Any] = {
            "endToEndId": e2e,
            "valor": f"{amount:.2f}",
            "horario": now.isoformat(),
            "infoPagador": f"pago no simulador por {request.payer_name}"[:140],
        }
        if txid:
            item["txid"] = txid
        if key:
            item["chave"] = key
        with self._lock:
            if charge is not None:
                charge.pix.append(item)
                charge.status = "CONCLUIDA"
            self.received.append(item)
        url = self.webhooks.get(key or "") or self.config.pix_webhook_url
        notification = Notification(_append_pix(url), {"pix": [item]}) if url and txid else None
        return item, notification

    def pay_boleto(self, request: PayRequest) -> dict[str, Any]:
        paid_on = request.paid_on or dt.datetime.now(BRAZIL).date()
        try:
            slip = read_slip(request.linha_digitavel or "", paid_on)
        except BoletoReadError as exc:
            raise PspError(400, "BoletoInvalido", str(exc)) from None
        paid = request.amount or slip.amount
        title = ReturnTitle(
            nosso_numero=slip.nosso_numero,
            amount=slip.amount,
            paid=paid,
            due_date=slip.due_date,
            paid_on=paid_on,
            credit_on=paid_on + dt.timedelta(days=1),
            payer_name=request.payer_name,
        )
        with self._lock:
            self._file_seq += 1
            sequence = self._file_seq
        text = build_return_240(
            slip.bank,
            [title],
            company_name=self.config.merchant_name,
            company_cnpj="0",
            sequence=sequence,
            generated=dt.datetime.now(BRAZIL),
        )
        folder = Path(self.config.cnab_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"RET{slip.bank}_{dt.datetime.now(BRAZIL):%Y%m%d%H%M%S}_{sequence:04d}.ret"
        path.write_bytes(text.encode("latin-1"))
        with self._lock:
            self.return_files.append(str(path))
        return {
            "kind": "boleto",
            "bank": slip.bank,
            "nosso_numero": slip.nosso_numero,
            "valor": f"{paid:.2f}",
            "file": str(path.resolve()),
        }


def _append_pix(url: str | None) -> str:
    """``{webhookUrl}/pix``, keeping a query string after the path."""
    assert url is not None
    base, sep, query = url.partition("?")
    return f"{base.rstrip('/')}/pix{sep}{query}"


def _validate(kind: str, body: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    valor = body.get("valor")
    original = valor.get("original") if isinstance(valor, dict) else None
    if not isinstance(original, str) or not _is_money(original):
        problems.append("valor.original: texto no formato 123.45")
    if not isinstance(body.get("chave"), str) or not body["chave"]:
        problems.append("chave: obrigatória")
    calendario = body.get("calendario")
    if kind == "cobv":
        if not isinstance(calendario, dict) or not _is_date(calendario.get("dataDeVencimento")):
            problems.append("calendario.dataDeVencimento: obrigatória (AAAA-MM-DD)")
        devedor = body.get("devedor")
        if (
            not isinstance(devedor, dict)
            or not devedor.get("nome")
            or not (devedor.get("cpf") or devedor.get("cnpj"))
        ):
            problems.append("devedor: nome e cpf ou cnpj obrigatórios")
        for name in ("multa", "juros", "desconto", "abatimento"):
            part = valor.get(name) if isinstance(valor, dict) else None
            if part is not None and (
                not isinstance(part, dict) or not isinstance(part.get("modalidade"), int)
            ):
                problems.append(f"valor.{name}.modalidade: inteiro obrigatório")
    return problems


def _is_money(text: str) -> bool:
    whole, dot, cents = text.partition(".")
    return bool(dot) and whole.isdigit() and len(whole) <= 10 and len(cents) == 2 and cents.isdigit()


def _is_date(value: Any) -> bool:
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True
