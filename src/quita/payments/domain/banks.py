"""Boleto encoding per bank: campo livre (25 digits) and nosso número with its check digit.

Each bank packs its own data into the campo livre and protects the nosso número with its own variant of
modulo 10/11, so every layout is one small function. Positions and rules: shared/reference/payments-br.md §2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from quita.payments.domain.boleto import (
    BoletoError,
    assemble_barcode,
    barcode_to_linha,
    format_linha,
)
from quita.payments.domain.checksums import (
    WEIGHTS_2_TO_7,
    WEIGHTS_9_TO_2,
    mod10,
    mod11_zero_above_nine,
    weighted_sum_from_left,
    weighted_sum_from_right,
)
from quita.payments.domain.due_factor import DueFactorError, due_factor

CHECK_INPUT = "entrada"

BANK_NAMES = {
    "001": "Banco do Brasil",
    "033": "Santander",
    "104": "Caixa Econômica Federal",
    "237": "Bradesco",
    "341": "Itaú",
    "748": "Sicredi",
    "756": "Sicoob",
}


@dataclass(frozen=True, slots=True)
class BoletoSpec:
    """Everything needed to issue a boleto; which optional fields matter depends on the bank.

    Field names follow the ``inputs`` of conformance/boleto.json so JSON maps 1:1.
    """

    bank: str
    due_date: date | None
    amount: Decimal
    agencia: str = ""
    conta: str = ""
    carteira: str = ""
    convenio: str = ""
    nosso_numero: str = ""
    nosso_numero_17: str = ""
    codigo_beneficiario: str = ""
    codigo_cliente: str = ""
    seu_numero: str = ""
    modalidade: str = ""
    parcela: str = ""
    posto: str = ""
    ano2: str = ""
    byte_idt: str = ""
    tipo_cobranca: str = ""
    ios: str = ""
    variacao: str = ""

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> BoletoSpec:
        """Build from untrusted JSON-like data, rejecting unknown fields and malformed values."""
        if not isinstance(data, dict):
            raise BoletoError("entrada deve ser um objeto JSON", CHECK_INPUT)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BoletoError(f"campo(s) desconhecido(s): {', '.join(unknown)}", CHECK_INPUT)
        for required in ("bank", "amount"):
            if required not in data:
                raise BoletoError(f"campo obrigatório ausente: {required}", CHECK_INPUT)
        values: dict[str, Any] = {}
        for name, raw in data.items():
            if name == "due_date":
                values[name] = _parse_date(raw)
            elif name == "amount":
                values[name] = _parse_amount(raw)
            else:
                if isinstance(raw, bool) or not isinstance(raw, str | int):
                    raise BoletoError(f"campo {name}: esperado texto de dígitos", CHECK_INPUT)
                text = str(raw).strip()
                if text and not text.isdigit():
                    raise BoletoError(f"campo {name}: apenas dígitos são aceitos ({text!r})", CHECK_INPUT)
                values[name] = text
        values.setdefault("due_date", None)
        return cls(**values)


def _parse_date(raw: Any) -> date | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise BoletoError("due_date: use o formato AAAA-MM-DD", CHECK_INPUT)
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise BoletoError(f"due_date inválida: {raw!r} (use AAAA-MM-DD)", CHECK_INPUT) from exc


def _parse_amount(raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise BoletoError('amount: informe o valor como texto decimal, por exemplo "123.45"', CHECK_INPUT)
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise BoletoError(f"amount inválido: {raw!r}", CHECK_INPUT) from exc
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01"), ROUND_HALF_EVEN):
        raise BoletoError(f"amount inválido: {raw!r} (não negativo, no máximo 2 casas)", CHECK_INPUT)
    return amount


@dataclass(frozen=True, slots=True)
class CampoLivre:
    value: str
    nosso_numero: str  # as printed on the slip, check digit included when the bank has one
    nosso_numero_dv: str | None


@dataclass(frozen=True, slots=True)
class EncodedBoleto:
    bank: str
    due_factor: int
    amount: Decimal
    campo_livre: str
    barcode: str
    linha_digitavel: str  # formatted
    nosso_numero: str
    nosso_numero_dv: str | None


def _digits(name: str, value: str, width: int, *, required: bool = True) -> str:
    if not value:
        if required:
            raise BoletoError(f"campo obrigatório ausente: {name}", CHECK_INPUT)
        value = "0"
    if not value.isdigit():
        raise BoletoError(f"campo {name}: apenas dígitos ({value!r})", CHECK_INPUT)
    if len(value) > width:
        stripped = value.lstrip("0")
        if len(stripped) > width:
            raise BoletoError(f"campo {name}: no máximo {width} dígitos ({value!r})", CHECK_INPUT)
        value = stripped
    return value.zfill(width)


# --- Banco do Brasil (001) -------------------------------------------------------------------------


def bb_nosso_numero_dv(digits: str) -> str:
    """Mod 11, weights 9..2 from the right, DV = remainder, 10 → X (convênios of 4 and 6 digits)."""
    remainder = weighted_sum_from_right(digits, WEIGHTS_9_TO_2) % 11
    return "X" if remainder == 10 else str(remainder)


def _campo_livre_bb(spec: BoletoSpec) -> CampoLivre:
    convenio = spec.convenio
    carteira = _digits("carteira", spec.carteira, 2)
    if not convenio.isdigit():
        raise BoletoError("campo convenio obrigatório (4, 6, 7 ou 8 dígitos)", CHECK_INPUT)
    if len(convenio) == 7:
        nn = convenio + _digits("nosso_numero", spec.nosso_numero, 10)
        return CampoLivre("000000" + nn + carteira, nn, None)
    if len(convenio) == 8:
        nn = convenio + _digits("nosso_numero", spec.nosso_numero, 9)
        return CampoLivre("000000" + nn + carteira, nn, None)
    if len(convenio) == 6 and len(spec.nosso_numero.lstrip("0")) > 5:
        if carteira not in ("16", "18"):
            raise BoletoError("nosso número livre de 17 dígitos só nas carteiras 16 e 18 do BB", CHECK_INPUT)
        nn = _digits("nosso_numero", spec.nosso_numero, 17)
        return CampoLivre(convenio + nn + "21", nn, None)
    if len(convenio) in (4, 6):
        nn = convenio + _digits("nosso_numero", spec.nosso_numero, 11 - len(convenio))
        agencia = _digits("agencia", spec.agencia, 4)
        conta = _digits("conta", spec.conta, 8)
        dv = bb_nosso_numero_dv(nn)
        return CampoLivre(nn + agencia + conta + carteira, f"{nn}-{dv}", dv)
    raise BoletoError(f"convênio BB com {len(convenio)} dígitos não suportado (4, 6, 7 ou 8)", CHECK_INPUT)


# --- Itaú (341) --------------------------------------------------------------------------------------

ITAU_SPECIAL_CARTEIRAS = frozenset({"106", "107", "122", "142", "143", "195", "196", "198"})
ITAU_NN_ONLY_DAC_CARTEIRAS = frozenset({"126", "131", "146", "150", "168"})


def itau_nosso_numero_dv(agencia: str, conta: str, carteira: str, nosso_numero: str) -> int:
    if carteira in ITAU_NN_ONLY_DAC_CARTEIRAS:
        return mod10(carteira + nosso_numero)
    return mod10(agencia + conta + carteira + nosso_numero)


def _campo_livre_itau(spec: BoletoSpec) -> CampoLivre:
    carteira = _digits("carteira", spec.carteira, 3)
    nn = _digits("nosso_numero", spec.nosso_numero, 8)
    if carteira in ITAU_SPECIAL_CARTEIRAS:
        body = (
            carteira
            + nn
            + _digits("seu_numero", spec.seu_numero, 7)
            + _digits("codigo_cliente", spec.codigo_cliente, 5)
        )
        return CampoLivre(body + str(mod10(body)) + "0", f"{carteira}/{nn}", None)
    agencia = _digits("agencia", spec.agencia, 4)
    conta = _digits("conta", spec.conta, 5)
    dv = itau_nosso_numero_dv(agencia, conta, carteira, nn)
    value = f"{carteira}{nn}{dv}{agencia}{conta}{mod10(agencia + conta)}000"
    return CampoLivre(value, f"{carteira}/{nn}-{dv}", str(dv))


# --- Bradesco (237) ----------------------------------------------------------------------------------


def bradesco_nosso_numero_dv(carteira: str, nosso_numero: str) -> str:
    """Mod 11 weights 2..7 over carteira(2)+NN(11); remainder 0 → 0, 1 → P, else 11 − remainder."""
    remainder = weighted_sum_from_right(carteira + nosso_numero, WEIGHTS_2_TO_7) % 11
    if remainder == 0:
        return "0"
    if remainder == 1:
        return "P"
    return str(11 - remainder)


def _campo_livre_bradesco(spec: BoletoSpec) -> CampoLivre:
    agencia = _digits("agencia", spec.agencia, 4)
    carteira = _digits("carteira", spec.carteira, 2)
    nn = _digits("nosso_numero", spec.nosso_numero, 11)
    conta = _digits("conta", spec.conta, 7)
    dv = bradesco_nosso_numero_dv(carteira, nn)
    return CampoLivre(agencia + carteira + nn + conta + "0", f"{carteira}/{nn}-{dv}", dv)


# --- Caixa SIGCB (104) -------------------------------------------------------------------------------


def _campo_livre_caixa(spec: BoletoSpec) -> CampoLivre:
    beneficiario = _digits("codigo_beneficiario", spec.codigo_beneficiario, 6)
    if spec.nosso_numero_17:
        nn = _digits("nosso_numero_17", spec.nosso_numero_17, 17)
    else:
        tipo = spec.carteira or "1"
        if tipo not in ("1", "2"):
            raise BoletoError("carteira Caixa SIGCB: 1 (registrada) ou 2 (sem registro)", CHECK_INPUT)
        nn = tipo + "4" + _digits("nosso_numero", spec.nosso_numero, 15)
    if nn[0] not in "12" or nn[1] != "4":
        raise BoletoError(
            "nosso número SIGCB deve começar com 1 ou 2 (modalidade) seguido de 4 (emissão beneficiário)",
            CHECK_INPUT,
        )
    body = (
        beneficiario + str(mod11_zero_above_nine(beneficiario)) + nn[2:5] + nn[0] + nn[5:8] + nn[1] + nn[8:17]
    )
    dv = str(mod11_zero_above_nine(nn))
    return CampoLivre(body + str(mod11_zero_above_nine(body)), f"{nn}-{dv}", dv)


# --- Santander (033) ---------------------------------------------------------------------------------


def _campo_livre_santander(spec: BoletoSpec) -> CampoLivre:
    beneficiario = _digits("codigo_beneficiario", spec.codigo_beneficiario, 7)
    nn = _digits("nosso_numero", spec.nosso_numero, 12)
    ios = _digits("ios", spec.ios, 1, required=False)
    carteira = _digits("carteira", spec.carteira or "101", 3)
    dv = str(mod11_zero_above_nine(nn))
    return CampoLivre(f"9{beneficiario}{nn}{dv}{ios}{carteira}", f"{nn}-{dv}", dv)


# --- Sicoob (756) ------------------------------------------------------------------------------------


def sicoob_nosso_numero_dv(agencia: str, codigo_cliente: str, nosso_numero: str) -> int:
    """Weights 3,1,9,7 from the left over agência(4)+cliente(10)+NN(7); 11 − (sum mod 11), >9 → 0."""
    total = weighted_sum_from_left(agencia + codigo_cliente.zfill(10) + nosso_numero, (3, 1, 9, 7))
    dv = 11 - total % 11
    return 0 if dv > 9 else dv


def _campo_livre_sicoob(spec: BoletoSpec) -> CampoLivre:
    carteira = _digits("carteira", spec.carteira or "1", 1)
    agencia = _digits("agencia", spec.agencia, 4)
    modalidade = _digits("modalidade", spec.modalidade or "01", 2)
    cliente = _digits("codigo_cliente", spec.codigo_cliente, 7)
    nn = _digits("nosso_numero", spec.nosso_numero, 7)
    parcela = _digits("parcela", spec.parcela or "001", 3)
    dv = str(sicoob_nosso_numero_dv(agencia, cliente, nn))
    return CampoLivre(carteira + agencia + modalidade + cliente + nn + dv + parcela, f"{nn}-{dv}", dv)


# --- Sicredi (748) -----------------------------------------------------------------------------------


def _campo_livre_sicredi(spec: BoletoSpec) -> CampoLivre:
    tipo = _digits("tipo_cobranca", spec.tipo_cobranca or "1", 1)
    agencia = _digits("agencia", spec.agencia, 4)
    posto = _digits("posto", spec.posto, 2)
    beneficiario = _digits("codigo_beneficiario", spec.codigo_beneficiario, 5)
    if spec.ano2:
        ano2 = _digits("ano2", spec.ano2, 2)
    elif spec.due_date is not None:
        ano2 = f"{spec.due_date.year % 100:02d}"
    else:
        raise BoletoError("campo obrigatório ausente: ano2", CHECK_INPUT)
    nn8 = ano2 + _digits("byte_idt", spec.byte_idt or "2", 1) + _digits("nosso_numero", spec.nosso_numero, 5)
    dv = str(mod11_zero_above_nine(agencia + posto + beneficiario + nn8))
    has_amount = "1" if spec.amount > 0 else "0"
    body = f"{tipo}1{nn8}{dv}{agencia}{posto}{beneficiario}{has_amount}0"
    return CampoLivre(body + str(mod11_zero_above_nine(body)), f"{nn8[:2]}/{nn8[2:]}-{dv}", dv)


CAMPO_LIVRE_BUILDERS: dict[str, Callable[[BoletoSpec], CampoLivre]] = {
    "001": _campo_livre_bb,
    "033": _campo_livre_santander,
    "104": _campo_livre_caixa,
    "237": _campo_livre_bradesco,
    "341": _campo_livre_itau,
    "748": _campo_livre_sicredi,
    "756": _campo_livre_sicoob,
}


def encode_boleto(spec: BoletoSpec) -> EncodedBoleto:
    """Barcode, linha digitável and nosso número for a boleto of one of the supported banks."""
    builder = CAMPO_LIVRE_BUILDERS.get(spec.bank)
    if builder is None:
        supported = ", ".join(sorted(CAMPO_LIVRE_BUILDERS))
        raise BoletoError(
            f"banco {spec.bank!r} não suportado para emissão (suportados: {supported})", "banco"
        )
    try:
        factor = 0 if spec.due_date is None else due_factor(spec.due_date)
    except DueFactorError as exc:
        raise BoletoError(str(exc), "fator_vencimento") from exc
    campo = builder(spec)
    cents = int((spec.amount * 100).to_integral_value(ROUND_HALF_EVEN))
    barcode = assemble_barcode(spec.bank, factor, cents, campo.value)
    return EncodedBoleto(
        bank=spec.bank,
        due_factor=factor,
        amount=spec.amount,
        campo_livre=campo.value,
        barcode=barcode,
        linha_digitavel=format_linha(barcode_to_linha(barcode)),
        nosso_numero=campo.nosso_numero,
        nosso_numero_dv=campo.nosso_numero_dv,
    )
