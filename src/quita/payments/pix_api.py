"""Client for Banco Central's standard API Pix (every PSP implements it): ``cobv`` and ``cob``.

Authentication is OAuth2 client credentials over mutual TLS with the certificate the PSP issued; the
token is cached until shortly before it expires, because PSPs rate-limit the token endpoint. Errors come
back as RFC 7807 problems (``title``, ``detail``, ``violacoes``) and are surfaced with that text.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from quita.payments.domain.matching import check_api_txid

TOKEN_MARGIN_S = 30.0


class PixApiError(RuntimeError):
    def __init__(self, message: str, status: int | None = None, problem: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem


@dataclass(frozen=True)
class PixApiSettings:
    """Where and how to reach one PSP. ``cert``/``key`` are PEM paths for mTLS; ``ca`` a CA bundle path."""

    base_url: str  # e.g. https://pix.example.com/api  (``/v2/...`` is appended)
    client_id: str
    client_secret: str
    token_url: str | None = None  # default: {base_url}/oauth/token
    cert: str | None = None
    key: str | None = None
    ca: str | None = None
    scope: str | None = "cob.read cob.write cobv.read cobv.write pix.read webhook.read webhook.write"
    timeout_s: float = 15.0

    def httpx_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"timeout": self.timeout_s}
        if self.cert:
            options["cert"] = (self.cert, self.key) if self.key else self.cert
        if self.ca:
            options["verify"] = self.ca
        return options


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def cobv_body(
    *,
    due_date: date,
    amount: Decimal,
    pix_key: str,
    debtor_name: str,
    debtor_document: str,
    fine_percent: Decimal | None = None,
    interest_percent_month: Decimal | None = None,
    discount_until: tuple[date, Decimal] | None = None,
    validity_days: int = 30,
    message: str | None = None,
) -> dict[str, Any]:
    """A ``CobVSolicitada``: multa modalidade 2 (percent), juros modalidade 3 (percent a month, calendar
    days), desconto modalidade 1 (fixed value until a date)."""
    document_field = "cpf" if len(debtor_document) == 11 else "cnpj"
    valor: dict[str, Any] = {"original": _money(amount)}
    if fine_percent:
        valor["multa"] = {"modalidade": 2, "valorPerc": _money(fine_percent)}
    if interest_percent_month:
        valor["juros"] = {"modalidade": 3, "valorPerc": _money(interest_percent_month)}
    if discount_until is not None:
        until, value = discount_until
        valor["desconto"] = {
            "modalidade": 1,
            "descontoDataFixa": [{"data": until.isoformat(), "valorPerc": _money(value)}],
        }
    body: dict[str, Any] = {
        "calendario": {"dataDeVencimento": due_date.isoformat(), "validadeAposVencimento": validity_days},
        "devedor": {document_field: debtor_document, "nome": debtor_name[:200]},
        "valor": valor,
        "chave": pix_key,
    }
    if message:
        body["solicitacaoPagador"] = message[:140]
    return body


class PixApiClient:
    """Synchronous client (services run in a unit of work on a worker thread)."""

    def __init__(self, settings: PixApiSettings, *, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self._http = httpx.Client(
            base_url=settings.base_url.rstrip("/"), transport=transport, **settings.httpx_options()
        )
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.token_requests = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PixApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- OAuth2 --------------------------------------------------------------------------------------

    def token(self) -> str:
        with self._lock:
            if self._token is not None and time.monotonic() < self._expires_at:
                return self._token
            url = self.settings.token_url or "/oauth/token"
            data = {"grant_type": "client_credentials"}
            if self.settings.scope:
                data["scope"] = self.settings.scope
            try:
                response = self._http.post(
                    url, data=data, auth=(self.settings.client_id, self.settings.client_secret)
                )
            except httpx.HTTPError as exc:
                raise PixApiError(f"PSP inacessível ao pedir token: {exc}") from exc
            if response.status_code != 200:
                raise PixApiError(
                    f"PSP recusou as credenciais (HTTP {response.status_code})", response.status_code
                )
            payload = response.json()
            token = payload.get("access_token")
            if not isinstance(token, str) or not token:
                raise PixApiError("resposta de token sem access_token")
            expires_in = float(payload.get("expires_in") or 300)
            self._token = token
            self._expires_at = time.monotonic() + max(expires_in - TOKEN_MARGIN_S, 1.0)
            self.token_requests += 1
            return token

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, retry: bool = True
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token()}"}
        try:
            response = self._http.request(method, f"/v2{path}", json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise PixApiError(f"PSP inacessível: {exc}") from exc
        if response.status_code == 401 and retry:  # token revoked early: fetch a new one once
            with self._lock:
                self._token = None
            return self._request(method, path, body, retry=False)
        if response.status_code >= 400:
            problem: Any
            try:
                problem = response.json()
            except ValueError:
                problem = response.text[:500]
            detail = problem.get("detail") or problem.get("title") if isinstance(problem, dict) else problem
            raise PixApiError(
                f"API Pix {method} {path}: HTTP {response.status_code}: {detail}",
                response.status_code,
                problem,
            )
        return response.json()

    # --- cobv / cob ----------------------------------------------------------------------------------

    def put_cobv(self, txid: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._request("PUT", f"/cobv/{check_api_txid(txid)}", body)
        return result

    def get_cobv(self, txid: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/cobv/{check_api_txid(txid)}")
        return result

    def put_cob(self, txid: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._request("PUT", f"/cob/{check_api_txid(txid)}", body)
        return result

    def get_cob(self, txid: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/cob/{check_api_txid(txid)}")
        return result

    def put_webhook(self, pix_key: str, webhook_url: str) -> None:
        self._request("PUT", f"/webhook/{pix_key}", {"webhookUrl": webhook_url})
