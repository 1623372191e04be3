"""Where the debtor is, as far as the clock and state law are concerned (TIME-03, TIME-04).

Precision order for the time zone: IBGE municipality, then the UF of the address, then the phone's DDD.
Whenever a source leaves more than one zone possible (Amazonas without a municipality, Pernambuco without
knowing it is not Fernando de Noronha, nothing known at all) every candidate is kept and the windows are
intersected, so the contact is inside the window wherever the debtor actually is. State law follows the
address and, when the phone's DDD belongs to another state, both states' windows apply (strictest).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from quita.br.geo import UF_TIMEZONES, municipality_by_ibge_code, normalise_uf, uf_from_ibge_code
from quita.br.phones import DDD_TO_UF

FERNANDO_DE_NORONHA_IBGE = 2605459
MANAUS_IBGE = 1302603
# Amazonas municipalities whose seats lie well west of the Tabatinga–Porto Acre line (Lei 12.876/2013), so
# surely on UTC−5. Other AM municipalities not known to the geo table stay ambiguous (both zones), on purpose.
_AM_WEST_IBGE = frozenset({1301407, 1301506, 1301654, 1301803})  # Eirunepé, Envira, Guajará, Ipixuna
_MUNICIPAL_ZONES = {
    FERNANDO_DE_NORONHA_IBGE: "America/Noronha",
    MANAUS_IBGE: "America/Manaus",
    **dict.fromkeys(_AM_WEST_IBGE, "America/Eirunepe"),
}
# DDD 92 is Manaus and the east of the state; only DDD 97 reaches the UTC−5 west.
_DDD_ZONES = {92: ("America/Manaus",), 97: ("America/Manaus", "America/Eirunepe")}
# One zone per offset: when nothing is known the windows of all four are intersected.
_ALL_OFFSETS = ("America/Noronha", "America/Sao_Paulo", "America/Manaus", "America/Rio_Branco")


class LocationError(ValueError):
    """A UF or IBGE code that does not exist."""


@dataclass(frozen=True, slots=True)
class Location:
    zones: tuple[ZoneInfo, ...]
    law_ufs: tuple[str, ...]
    """UFs whose contact-hour laws apply; empty means unknown (the engine then applies every window)."""
    holiday_ufs: tuple[str, ...]
    source: str
    """'ibge', 'uf', 'ddd' or 'unknown': how the time zone was found (for explanations)."""


@lru_cache(maxsize=128)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _uf_zones(uf: str, ibge_code: int | None) -> tuple[str, ...]:
    zones = UF_TIMEZONES[uf]
    if ibge_code is not None and ibge_code != FERNANDO_DE_NORONHA_IBGE:
        zones = tuple(z for z in zones if z != "America/Noronha")
    return zones


@lru_cache(maxsize=8192)
def resolve_location(uf: str | None, ibge_code: int | None, ddd: int | None) -> Location:
    try:
        domicile = {normalise_uf(uf)} if uf else set()
        ibge_uf = uf_from_ibge_code(ibge_code) if ibge_code is not None else None
    except ValueError as exc:
        raise LocationError(str(exc)) from exc
    if ibge_uf:
        domicile.add(ibge_uf)
    ddd_uf = DDD_TO_UF.get(ddd) if ddd is not None else None
    if ddd is not None and ddd_uf is None:
        raise LocationError(f"DDD inexistente: {ddd}")

    names: tuple[str, ...]
    if ibge_code is not None and ibge_code in _MUNICIPAL_ZONES:
        names, source = (_MUNICIPAL_ZONES[ibge_code],), "ibge"
    elif ibge_code is not None and (known := municipality_by_ibge_code(ibge_code)) is not None:
        names, source = (known.timezone,), "ibge"
    elif ibge_uf is not None:
        names, source = _uf_zones(ibge_uf, ibge_code), "ibge"
    elif domicile:
        names = tuple(dict.fromkeys(z for d in sorted(domicile) for z in _uf_zones(d, None)))
        source = "uf"
    elif ddd_uf is not None and ddd is not None:
        names, source = _DDD_ZONES.get(ddd, UF_TIMEZONES[ddd_uf]), "ddd"
    else:
        names, source = _ALL_OFFSETS, "unknown"

    law = set(domicile)
    if ddd_uf:
        law.add(ddd_uf)
    holiday = sorted(domicile) if domicile else ([ddd_uf] if ddd_uf else [])
    return Location(
        zones=tuple(_zone(n) for n in names),
        law_ufs=tuple(sorted(law)),
        holiday_ufs=tuple(holiday),
        source=source,
    )
