"""Serves the phone page (``/_sim/phone``); the page itself only talks to the control API."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse


@lru_cache(maxsize=1)
def page_html() -> str:
    return files("quita.simulator.phone").joinpath("phone.html").read_text(encoding="utf-8")


def phone_router() -> APIRouter:
    router = APIRouter()

    @router.get("/_sim/phone", response_class=HTMLResponse)
    def phone() -> str:
        return page_html()

    @router.get("/_sim/phone/{number}", response_class=HTMLResponse)
    def phone_for(number: str) -> str:
        return page_html()

    return router
