"""States (UFs), their IBGE codes, time zones, CEP ranges and a small table of real municipalities.

Contact windows are judged in the debtor's local time, and Brazil has four offsets (UTC−2 … UTC−5), so a
debtor's UF (and, inside AM and PE, the municipality) decides which clock applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from quita.br.text import fold

__all__ = [
    "IBGE_UF_CODES",
    "MUNICIPALITIES",
    "UFS",
    "UF_CEP_RANGES",
    "UF_TIMEZONES",
    "Municipality",
    "ibge_check_digit",
    "is_valid_ibge_municipality_code",
    "municipality_by_ibge_code",
    "normalise_cep",
    "normalise_uf",
    "uf_from_cep",
    "uf_from_ibge_code",
]

UFS: Mapping[str, str] = MappingProxyType(
    {
        "AC": "Acre",
        "AL": "Alagoas",
        "AP": "Amapá",
        "AM": "Amazonas",
        "BA": "Bahia",
        "CE": "Ceará",
        "DF": "Distrito Federal",
        "ES": "Espírito Santo",
        "GO": "Goiás",
        "MA": "Maranhão",
        "MT": "Mato Grosso",
        "MS": "Mato Grosso do Sul",
        "MG": "Minas Gerais",
        "PA": "Pará",
        "PB": "Paraíba",
        "PR": "Paraná",
        "PE": "Pernambuco",
        "PI": "Piauí",
        "RJ": "Rio de Janeiro",
        "RN": "Rio Grande do Norte",
        "RS": "Rio Grande do Sul",
        "RO": "Rondônia",
        "RR": "Roraima",
        "SC": "Santa Catarina",
        "SP": "São Paulo",
        "SE": "Sergipe",
        "TO": "Tocantins",
    }
)

# IANA zones in use in each UF (the first is the capital's). Lei 12.876/2013: Acre and west Amazonas UTC−5;
# Fernando de Noronha (PE) UTC−2; no daylight saving time since 2019.
UF_TIMEZONES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "AC": ("America/Rio_Branco",),
        "AL": ("America/Maceio",),
        "AP": ("America/Belem",),
        "AM": ("America/Manaus", "America/Eirunepe"),
        "BA": ("America/Bahia",),
        "CE": ("America/Fortaleza",),
        "DF": ("America/Sao_Paulo",),
        "ES": ("America/Sao_Paulo",),
        "GO": ("America/Sao_Paulo",),
        "MA": ("America/Fortaleza",),
        "MT": ("America/Cuiaba",),
        "MS": ("America/Campo_Grande",),
        "MG": ("America/Sao_Paulo",),
        "PA": ("America/Belem", "America/Santarem"),
        "PB": ("America/Fortaleza",),
        "PR": ("America/Sao_Paulo",),
        "PE": ("America/Recife", "America/Noronha"),
        "PI": ("America/Fortaleza",),
        "RJ": ("America/Sao_Paulo",),
        "RN": ("America/Fortaleza",),
        "RS": ("America/Sao_Paulo",),
        "RO": ("America/Porto_Velho",),
        "RR": ("America/Boa_Vista",),
        "SC": ("America/Sao_Paulo",),
        "SP": ("America/Sao_Paulo",),
        "SE": ("America/Maceio",),
        "TO": ("America/Araguaina",),
    }
)

IBGE_UF_CODES: Mapping[str, int] = MappingProxyType(
    {
        "RO": 11, "AC": 12, "AM": 13, "RR": 14, "PA": 15, "AP": 16, "TO": 17,
        "MA": 21, "PI": 22, "CE": 23, "RN": 24, "PB": 25, "PE": 26, "AL": 27, "SE": 28, "BA": 29,
        "MG": 31, "ES": 32, "RJ": 33, "SP": 35,
        "PR": 41, "SC": 42, "RS": 43,
        "MS": 50, "MT": 51, "GO": 52, "DF": 53,
    }
)  # fmt: skip
_UF_BY_IBGE = {code: uf for uf, code in IBGE_UF_CODES.items()}

# Correios CEP ranges per UF (8-digit CEPs as integers, inclusive). DF and GO interleave.
UF_CEP_RANGES: Mapping[str, tuple[tuple[int, int], ...]] = MappingProxyType(
    {
        "SP": ((1_000_000, 19_999_999),),
        "RJ": ((20_000_000, 28_999_999),),
        "ES": ((29_000_000, 29_999_999),),
        "MG": ((30_000_000, 39_999_999),),
        "BA": ((40_000_000, 48_999_999),),
        "SE": ((49_000_000, 49_999_999),),
        "PE": ((50_000_000, 56_999_999),),
        "AL": ((57_000_000, 57_999_999),),
        "PB": ((58_000_000, 58_999_999),),
        "RN": ((59_000_000, 59_999_999),),
        "CE": ((60_000_000, 63_999_999),),
        "PI": ((64_000_000, 64_999_999),),
        "MA": ((65_000_000, 65_999_999),),
        "PA": ((66_000_000, 68_899_999),),
        "AP": ((68_900_000, 68_999_999),),
        "AM": ((69_000_000, 69_299_999), (69_400_000, 69_899_999)),
        "RR": ((69_300_000, 69_399_999),),
        "AC": ((69_900_000, 69_999_999),),
        "DF": ((70_000_000, 72_799_999), (73_000_000, 73_699_999)),
        "GO": ((72_800_000, 72_999_999), (73_700_000, 76_799_999)),
        "RO": ((76_800_000, 76_999_999),),
        "TO": ((77_000_000, 77_999_999),),
        "MT": ((78_000_000, 78_899_999),),
        "MS": ((79_000_000, 79_999_999),),
        "PR": ((80_000_000, 87_999_999),),
        "SC": ((88_000_000, 89_999_999),),
        "RS": ((90_000_000, 99_999_999),),
    }
)


def _uf_by_folded_name() -> dict[str, str]:
    names = {fold(name): uf for uf, name in UFS.items()}
    names.update({fold(uf): uf for uf in UFS})
    return names


_UF_BY_NAME = _uf_by_folded_name()


def normalise_uf(raw: str) -> str:
    """'sp', ' SP ', 'São Paulo', 'sao paulo' → 'SP'; raises ValueError (pt-BR) for anything else."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("UF vazia")
    uf = _UF_BY_NAME.get(fold(raw))
    if uf is None:
        raise ValueError(f"UF desconhecida: {raw.strip()!r}")
    return uf


def uf_from_ibge_code(code: int | str) -> str:
    """The UF of an IBGE code (UF code, or municipality code whose first two digits are the UF)."""
    text = str(code).strip()
    if not text.isascii() or not text.isdigit() or len(text) not in (2, 6, 7):
        raise ValueError(f"código IBGE inválido: {code!r}")
    uf = _UF_BY_IBGE.get(int(text[:2]))
    if uf is None:
        raise ValueError(f"código IBGE com UF inexistente: {text[:2]}")
    return uf


def ibge_check_digit(first6: str) -> int:
    """IBGE municipality DV: weights 1,2,1,2,1,2; two-digit products summed digit by digit; (10 − sum mod 10)
    mod 10. Checked against the capitals' codes in MUNICIPALITIES."""
    total = 0
    for i, char in enumerate(first6):
        product = int(char) * (1 if i % 2 == 0 else 2)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


# Municipalities created in the 1990s whose official codes do not satisfy the DV rule (the exception list
# used by NF-e validators; recalled, not read from an IBGE document).
_DV_EXCEPTIONS = frozenset(
    {"2201919", "2201988", "2202251", "2611533", "3117836", "3152131", "4305871", "5203939", "5203962"}
)


def is_valid_ibge_municipality_code(code: int | str) -> bool:
    """7 digits, an existing UF prefix and a correct IBGE check digit (or one of the known exceptions)."""
    text = str(code).strip()
    if len(text) != 7 or not text.isascii() or not text.isdigit() or int(text[:2]) not in _UF_BY_IBGE:
        return False
    return text in _DV_EXCEPTIONS or ibge_check_digit(text[:6]) == int(text[6])


def normalise_cep(raw: str) -> str:
    """'01310-100', '01310100', '1310100' (leading zero lost) → '01310100'; raises ValueError otherwise."""
    text = raw.strip().replace("-", "").replace(".", "").replace(" ", "") if isinstance(raw, str) else ""
    if not text or not text.isascii() or not text.isdigit() or len(text) > 8 or len(text) < 7:
        raise ValueError(f"CEP inválido: {raw!r}")
    text = text.zfill(8)
    if uf_from_cep(text) is None:
        raise ValueError(f"CEP fora das faixas dos Correios: {raw!r}")
    return text


def uf_from_cep(cep: str) -> str | None:
    """The UF whose Correios range contains an 8-digit CEP, or None."""
    value = int(cep)
    for uf, ranges in UF_CEP_RANGES.items():
        if any(lo <= value <= hi for lo, hi in ranges):
            return uf
    return None


@dataclass(frozen=True)
class Municipality:
    name: str
    uf: str
    ibge_code: str
    ddd: int
    timezone: str
    cep_range: tuple[int, int]  # 5-digit CEP prefixes, inclusive; approximate for non-capitals


def _m(name: str, uf: str, code: str, ddd: int, cep: tuple[int, int], tz: str | None = None) -> Municipality:
    return Municipality(name, uf, code, ddd, tz or UF_TIMEZONES[uf][0], cep)


# Every capital (first per UF) plus larger towns; used by the sample generator and as a reference table.
MUNICIPALITIES: tuple[Municipality, ...] = (
    _m("Rio Branco", "AC", "1200401", 68, (69900, 69923)),
    _m("Cruzeiro do Sul", "AC", "1200203", 68, (69980, 69981)),
    _m("Maceió", "AL", "2704302", 82, (57000, 57099)),
    _m("Arapiraca", "AL", "2700300", 82, (57300, 57319)),
    _m("Macapá", "AP", "1600303", 96, (68900, 68914)),
    _m("Santana", "AP", "1600600", 96, (68925, 68929)),
    _m("Manaus", "AM", "1302603", 92, (69000, 69099)),
    _m("Parintins", "AM", "1303403", 92, (69150, 69154)),
    _m("Eirunepé", "AM", "1301407", 97, (69880, 69880), "America/Eirunepe"),
    _m("Salvador", "BA", "2927408", 71, (40000, 42599)),
    _m("Feira de Santana", "BA", "2910800", 75, (44000, 44099)),
    _m("Vitória da Conquista", "BA", "2933307", 77, (45000, 45099)),
    _m("Ilhéus", "BA", "2913606", 73, (45650, 45659)),
    _m("Fortaleza", "CE", "2304400", 85, (60000, 61599)),
    _m("Caucaia", "CE", "2303709", 85, (61600, 61699)),
    _m("Juazeiro do Norte", "CE", "2307304", 88, (63000, 63099)),
    _m("Sobral", "CE", "2312908", 88, (62000, 62099)),
    _m("Brasília", "DF", "5300108", 61, (70000, 72799)),
    _m("Vitória", "ES", "3205309", 27, (29000, 29099)),
    _m("Vila Velha", "ES", "3205200", 27, (29100, 29129)),
    _m("Serra", "ES", "3205002", 27, (29160, 29184)),
    _m("Cachoeiro de Itapemirim", "ES", "3201209", 28, (29300, 29314)),
    _m("Goiânia", "GO", "5208707", 62, (74000, 74899)),
    _m("Aparecida de Goiânia", "GO", "5201405", 62, (74900, 74999)),
    _m("Anápolis", "GO", "5201108", 62, (75000, 75149)),
    _m("Rio Verde", "GO", "5218805", 64, (75900, 75909)),
    _m("São Luís", "MA", "2111300", 98, (65000, 65109)),
    _m("Imperatriz", "MA", "2105302", 99, (65900, 65919)),
    _m("Cuiabá", "MT", "5103403", 65, (78000, 78109)),
    _m("Várzea Grande", "MT", "5108402", 65, (78110, 78159)),
    _m("Rondonópolis", "MT", "5107602", 66, (78700, 78749)),
    _m("Campo Grande", "MS", "5002704", 67, (79000, 79124)),
    _m("Dourados", "MS", "5003702", 67, (79800, 79849)),
    _m("Belo Horizonte", "MG", "3106200", 31, (30000, 31999)),
    _m("Contagem", "MG", "3118601", 31, (32000, 32399)),
    _m("Uberlândia", "MG", "3170206", 34, (38400, 38419)),
    _m("Juiz de Fora", "MG", "3136702", 32, (36000, 36099)),
    _m("Montes Claros", "MG", "3143302", 38, (39400, 39409)),
    _m("Belém", "PA", "1501402", 91, (66000, 66999)),
    _m("Ananindeua", "PA", "1500800", 91, (67000, 67199)),
    _m("Santarém", "PA", "1506807", 93, (68000, 68129), "America/Santarem"),
    _m("Marabá", "PA", "1504208", 94, (68500, 68519)),
    _m("João Pessoa", "PB", "2507507", 83, (58000, 58099)),
    _m("Campina Grande", "PB", "2504009", 83, (58400, 58439)),
    _m("Curitiba", "PR", "4106902", 41, (80000, 82999)),
    _m("Londrina", "PR", "4113700", 43, (86000, 86099)),
    _m("Maringá", "PR", "4115200", 44, (87000, 87099)),
    _m("Cascavel", "PR", "4104808", 45, (85800, 85824)),
    _m("Ponta Grossa", "PR", "4119905", 42, (84000, 84099)),
    _m("Foz do Iguaçu", "PR", "4108304", 45, (85850, 85874)),
    _m("Recife", "PE", "2611606", 81, (50000, 52999)),
    _m("Jaboatão dos Guararapes", "PE", "2607901", 81, (54000, 54499)),
    _m("Olinda", "PE", "2609600", 81, (53000, 53399)),
    _m("Caruaru", "PE", "2604106", 81, (55000, 55099)),
    _m("Petrolina", "PE", "2611101", 87, (56300, 56339)),
    _m("Teresina", "PI", "2211001", 86, (64000, 64099)),
    _m("Parnaíba", "PI", "2207702", 86, (64200, 64219)),
    _m("Rio de Janeiro", "RJ", "3304557", 21, (20000, 23799)),
    _m("Niterói", "RJ", "3303302", 21, (24000, 24399)),
    _m("Duque de Caxias", "RJ", "3301702", 21, (25000, 25299)),
    _m("Nova Iguaçu", "RJ", "3303500", 21, (26000, 26099)),
    _m("Petrópolis", "RJ", "3303906", 24, (25600, 25799)),
    _m("Volta Redonda", "RJ", "3306305", 24, (27200, 27299)),
    _m("Campos dos Goytacazes", "RJ", "3301009", 22, (28000, 28099)),
    _m("Natal", "RN", "2408102", 84, (59000, 59161)),
    _m("Mossoró", "RN", "2408003", 84, (59600, 59649)),
    _m("Porto Alegre", "RS", "4314902", 51, (90000, 91999)),
    _m("Caxias do Sul", "RS", "4305108", 54, (95000, 95124)),
    _m("Pelotas", "RS", "4314407", 53, (96000, 96099)),
    _m("Santa Maria", "RS", "4316907", 55, (97000, 97119)),
    _m("Porto Velho", "RO", "1100205", 69, (76800, 76834)),
    _m("Ji-Paraná", "RO", "1100122", 69, (76900, 76914)),
    _m("Boa Vista", "RR", "1400100", 95, (69300, 69339)),
    _m("Florianópolis", "SC", "4205407", 48, (88000, 88099)),
    _m("Joinville", "SC", "4209102", 47, (89200, 89239)),
    _m("Blumenau", "SC", "4202404", 47, (89000, 89099)),
    _m("Chapecó", "SC", "4204202", 49, (89800, 89816)),
    _m("São Paulo", "SP", "3550308", 11, (1000, 5999)),
    _m("Guarulhos", "SP", "3518800", 11, (7000, 7399)),
    _m("Osasco", "SP", "3534401", 11, (6000, 6299)),
    _m("Campinas", "SP", "3509502", 19, (13000, 13139)),
    _m("Santos", "SP", "3548500", 13, (11000, 11099)),
    _m("Ribeirão Preto", "SP", "3543402", 16, (14000, 14114)),
    _m("Sorocaba", "SP", "3552205", 15, (18000, 18109)),
    _m("São José dos Campos", "SP", "3549904", 12, (12200, 12249)),
    _m("São José do Rio Preto", "SP", "3549805", 17, (15000, 15099)),
    _m("Bauru", "SP", "3506003", 14, (17000, 17109)),
    _m("Presidente Prudente", "SP", "3541406", 18, (19000, 19099)),
    _m("Aracaju", "SE", "2800308", 79, (49000, 49098)),
    _m("Nossa Senhora do Socorro", "SE", "2804805", 79, (49160, 49169)),
    _m("Palmas", "TO", "1721000", 63, (77000, 77270)),
    _m("Araguaína", "TO", "1702109", 63, (77800, 77829)),
)

_MUNICIPALITY_BY_CODE = {m.ibge_code: m for m in MUNICIPALITIES}


def municipality_by_ibge_code(code: int | str) -> Municipality | None:
    """The municipality in the small built-in table, if present (the table is not the full IBGE list)."""
    return _MUNICIPALITY_BY_CODE.get(str(code).strip())
