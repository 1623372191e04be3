"""HTTP face of the fake PSP: the API Pix under ``/psp`` and the control API under ``/_sim/psp``.

OAuth2 client credentials (Basic auth or form fields) at ``/psp/oauth/token``; ``PUT/GET
/psp/v2/cobv/{txid}`` and ``/psp/v2/cob/{txid}``; ``PUT /psp/v2/webhook/{chave}``. mTLS is not simulated
(the simulator listens on loopback over plain HTTP).
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Body, Form, Header, HTTPException
from fastapi.responses import FileResponse, JSONResponse
from pydantic import ValidationError

from quita.simulator.psp.schemas import PayRequest, PspConfig
from quita.simulator.psp.service import PspError, PspSimulator

TXID = r"^[A-Za-z0-9]{26,35}$"


def _problem(exc: PspError) -> JSONResponse:
    return JSONResponse(exc.problem(), status_code=exc.status, media_type="application/problem+json")


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:]).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def psp_router(psp: PspSimulator) -> APIRouter:
    router = APIRouter(prefix="/psp")

    @router.post("/oauth/token")
    def token(
        grant_type: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        if grant_type != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        credentials = _basic(authorization) or (client_id or "", client_secret or "")
        try:
            return JSONResponse(psp.issue_token(*credentials))
        except PspError:
            return JSONResponse({"error": "invalid_client"}, status_code=401)

    def charge_routes(kind: str) -> None:
        @router.put(f"/v2/{kind}/{{txid}}", status_code=201)
        def put_charge(
            txid: str,
            body: Annotated[dict[str, Any], Body()],
            authorization: Annotated[str | None, Header()] = None,
        ) -> JSONResponse:
            try:
                psp.check_token(authorization)
                if not re.fullmatch(TXID, txid):
                    raise PspError(400, "TxidInvalido", "txid deve ter de 26 a 35 caracteres alfanuméricos")
                return JSONResponse(psp.put_charge(kind, txid, body).view(), status_code=201)
            except PspError as exc:
                return _problem(exc)

        @router.get(f"/v2/{kind}/{{txid}}")
        def get_charge(txid: str, authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
            try:
                psp.check_token(authorization)
                return JSONResponse(psp.get_charge(kind, txid).view())
            except PspError as exc:
                return _problem(exc)

    charge_routes("cobv")
    charge_routes("cob")

    @router.put("/v2/webhook/{chave}")
    def put_webhook(
        chave: str,
        body: Annotated[dict[str, Any], Body()],
        authorization: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        try:
            psp.check_token(authorization)
            url = body.get("webhookUrl")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise PspError(400, "WebhookOperacaoInvalida", "webhookUrl deve ser uma URL http(s)")
            psp.register_webhook(chave, url)
            return JSONResponse({}, status_code=200)
        except PspError as exc:
            return _problem(exc)

    return router


def psp_control_router(psp: PspSimulator) -> APIRouter:
    router = APIRouter(prefix="/_sim/psp")

    @router.post("/pay")
    async def pay(request: PayRequest) -> JSONResponse:
        """Settles a Pix charge (and fires its webhook) or a boleto (and writes a CNAB 240 return)."""
        try:
            if request.linha_digitavel:
                return JSONResponse(psp.pay_boleto(request))
            if not (request.brcode or request.txid):
                raise PspError(400, "PagamentoInvalido", "informe brcode, txid ou linha_digitavel")
            item, notification = psp.pay_pix(request)
        except PspError as exc:
            return _problem(exc)
        result: dict[str, Any] = {"kind": "pix", **item, "webhook": None}
        if notification is not None:
            headers = (
                {"X-Webhook-Secret": psp.config.pix_webhook_secret} if psp.config.pix_webhook_secret else {}
            )
            try:
                async with httpx.AsyncClient(timeout=15) as client:
                    response = await client.post(notification.url, json=notification.body, headers=headers)
                result["webhook"] = {"url": notification.url, "status": response.status_code}
            except httpx.HTTPError as exc:
                result["webhook"] = {"url": notification.url, "error": str(exc)}
        return JSONResponse(result)

    @router.get("/charges")
    def charges() -> dict[str, Any]:
        return {"data": [c.view() for c in psp.charges.values()]}

    @router.get("/received")
    def received() -> dict[str, Any]:
        return {"pix": list(psp.received), "return_files": list(psp.return_files)}

    @router.get("/returns/{name}")
    def return_file(name: str) -> FileResponse:
        for stored in psp.return_files:
            if Path(stored).name == name:
                return FileResponse(stored, media_type="text/plain", filename=name)
        raise HTTPException(404, "arquivo não encontrado")

    @router.get("/config")
    def get_config() -> dict[str, Any]:
        return psp.config.model_dump()

    @router.post("/config")
    def set_config(changes: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        try:
            psp.config = PspConfig.model_validate({**psp.config.model_dump(), **changes})
        except ValidationError as exc:
            raise HTTPException(422, exc.errors(include_url=False, include_context=False)) from None
        return psp.config.model_dump()

    @router.post("/reset")
    def reset() -> dict[str, Any]:
        psp.reset()
        return {"reset": True}

    return router
