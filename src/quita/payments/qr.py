"""QR images for Pix BR Codes (PNG and SVG via segno).

Error correction M is what PSPs print on boletos híbridos: robust to smudges while keeping a ~200-char
payload in a small symbol.
"""

from __future__ import annotations

import io

import segno


def _qr(payload: str) -> segno.QRCode:
    return segno.make_qr(payload, error="m", boost_error=False)


def qr_png(payload: str, *, scale: int = 8, border: int = 4) -> bytes:
    """PNG bytes of the QR code for ``payload``."""
    buffer = io.BytesIO()
    _qr(payload).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def qr_svg(payload: str, *, scale: int = 4, border: int = 4) -> str:
    """SVG document (text) of the QR code for ``payload``."""
    buffer = io.BytesIO()
    _qr(payload).save(buffer, kind="svg", scale=scale, border=border, xmldecl=False)
    return buffer.getvalue().decode("utf-8")


def qr_matrix(payload: str) -> list[list[bool]]:
    """Module matrix (True = dark), without border; used to draw the QR as vector boxes in PDFs."""
    return [[bool(cell) for cell in row] for row in _qr(payload).matrix]
