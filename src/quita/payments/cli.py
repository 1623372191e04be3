"""Command line for payments: ``quita boleto``, ``quita pix``, ``quita cnab``, ``quita payments``.

Every command prints JSON on stdout (money as decimal strings, dates ISO) so scripts can rely on it;
invalid input exits with status 2 and a pt-BR reason on stderr.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

import typer

from quita.payments.domain.amounts import AmountError, LatePaymentTerms, updated_amount
from quita.payments.domain.banks import BANK_NAMES, BoletoSpec, encode_boleto
from quita.payments.domain.boleto import BoletoError, decode_boleto
from quita.payments.domain.cnab_remessa import Company, Payer, RemessaError, RemessaTitle, build_remessa_240
from quita.payments.domain.cnab_return import CnabError, parse_cnab_return
from quita.payments.domain.pix import PixError, build_dynamic, build_static, parse_brcode

app = typer.Typer(no_args_is_help=True, help="Payments and reconciliation.")
boleto_app = typer.Typer(no_args_is_help=True, help="Boleto: encode, decode, PDF.")
pix_app = typer.Typer(no_args_is_help=True, help="Pix BR Code: encode and decode.")
cnab_app = typer.Typer(no_args_is_help=True, help="CNAB bank files.")

EXIT_INVALID = 2


def to_jsonable(value: Any) -> Any:
    """Decimals as strings, dates as ISO strings, dataclasses as dicts (recursively)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def emit(data: Any) -> None:
    typer.echo(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2))


def fail(message: str) -> NoReturn:
    typer.echo(f"erro: {message}", err=True)
    raise typer.Exit(code=EXIT_INVALID)


def read_json_object(source: str) -> dict[str, Any]:
    """One JSON object from a file path or ``-`` (stdin)."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"não foi possível ler {source}: {exc.strerror}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"JSON inválido em {source}: linha {exc.lineno}, coluna {exc.colno}: {exc.msg}")
    if not isinstance(data, dict):
        fail("a entrada deve ser um objeto JSON")
    return data


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{what} inválida: {text!r} (use AAAA-MM-DD)")


def parse_money(text: str, what: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        fail(f"{what} inválido: {text!r}")


# --- boleto ------------------------------------------------------------------------------------------


def encode_from_mapping(data: dict[str, Any]) -> dict[str, Any]:
    """Encode JSON for one boleto; shared by ``encode`` and ``pdf``. Raises ``BoletoError``."""
    spec = BoletoSpec.from_mapping(data)
    encoded = encode_boleto(spec)
    return {
        "bank": encoded.bank,
        "bank_name": BANK_NAMES.get(encoded.bank, encoded.bank),
        "barcode": encoded.barcode,
        "linha_digitavel": encoded.linha_digitavel,
        "due_factor": f"{encoded.due_factor:04d}",
        "due_date": spec.due_date,
        "amount": encoded.amount,
        "campo_livre": encoded.campo_livre,
        "nosso_numero": encoded.nosso_numero,
        "nosso_numero_dv": encoded.nosso_numero_dv,
    }


@boleto_app.command("encode")
def boleto_encode(
    source: str = typer.Argument(..., help="JSON file with the boleto fields, or - for stdin"),
) -> None:
    """Generate barcode and linha digitável for one boleto."""
    data = read_json_object(source)
    try:
        emit(encode_from_mapping(data))
    except BoletoError as exc:
        fail(f"{exc} (verificação: {exc.check})")


@boleto_app.command("decode")
def boleto_decode(
    value: str = typer.Argument(..., help="barcode (44) or linha digitável (47), punctuation allowed"),
    today: str = typer.Option(None, "--today", help="reference date for the due factor, YYYY-MM-DD"),
) -> None:
    """Validate and decode a boleto de cobrança of any bank."""
    reference = parse_day(today, "data de referência") if today else date.today()
    try:
        decoded = decode_boleto(value, reference)
    except BoletoError as exc:
        fail(f"{exc} (verificação: {exc.check})")
    emit(
        {
            "bank": decoded.bank,
            "bank_name": BANK_NAMES.get(decoded.bank),
            "amount": decoded.amount,
            "due_date": decoded.due_date,
            "due_factor": f"{decoded.due_factor:04d}",
            "barcode": decoded.barcode,
            "linha_digitavel": decoded.linha_digitavel,
            "campo_livre": decoded.campo_livre,
        }
    )


@boleto_app.command("pdf")
def boleto_pdf(
    source: str = typer.Argument(
        ..., help="JSON: the encode fields plus beneficiary, payer, items, instructions, pix"
    ),
    out: Path = typer.Option(..., "--out", help="PDF file to write"),
) -> None:
    """Render the boleto (recibo do pagador + ficha de compensação) as PDF."""
    from quita.payments.pdf import BoletoDocument, BoletoPdfError, render_boleto_pdf

    data = read_json_object(source)
    try:
        document = BoletoDocument.from_mapping(data, encode_from_mapping)
        out.write_bytes(render_boleto_pdf(document))
    except (BoletoError, BoletoPdfError, PixError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"não foi possível gravar {out}: {exc.strerror}")
    emit({"out": str(out), "barcode": document.barcode, "linha_digitavel": document.linha_digitavel})


# --- Pix ---------------------------------------------------------------------------------------------

_PIX_FIELDS = {
    "key",
    "amount",
    "txid",
    "merchant_name",
    "merchant_city",
    "description",
    "postal_code",
    "location_url",
    "single_use",
}


def brcode_json(payload: str) -> dict[str, Any]:
    code = parse_brcode(payload)
    return {
        "payload": code.payload,
        "dynamic": code.is_dynamic,
        "key": code.key,
        "location_url": code.location_url,
        "amount": code.amount,
        "txid": code.txid,
        "merchant_name": code.merchant_name,
        "merchant_city": code.merchant_city,
        "description": code.description,
        "single_use": code.single_use,
        "recurrence_url": code.recurrence_url,
        "crc": code.crc,
        "fields": code.fields,
    }


@pix_app.command("encode")
def pix_encode(
    source: str = typer.Argument(
        ..., help="JSON file (key or location_url, merchant_name, …) or - for stdin"
    ),
    png: Path = typer.Option(None, "--png", help="also write the QR code as PNG"),
    svg: Path = typer.Option(None, "--svg", help="also write the QR code as SVG"),
) -> None:
    """Build a static (key) or dynamic (location_url) Pix BR Code."""
    data = read_json_object(source)
    unknown = sorted(set(data) - _PIX_FIELDS)
    if unknown:
        fail(f"campo(s) desconhecido(s): {', '.join(unknown)}")
    for name in ("merchant_name", "merchant_city"):
        if not isinstance(data.get(name), str):
            fail(f"campo obrigatório ausente: {name}")
    amount = parse_money(str(data["amount"]), "amount") if data.get("amount") is not None else None
    try:
        if data.get("location_url"):
            payload = build_dynamic(
                location_url=str(data["location_url"]),
                merchant_name=data["merchant_name"],
                merchant_city=data["merchant_city"],
                amount=amount,
                single_use=bool(data.get("single_use", True)),
                postal_code=data.get("postal_code"),
            )
        elif isinstance(data.get("key"), str):
            payload = build_static(
                key=data["key"],
                merchant_name=data["merchant_name"],
                merchant_city=data["merchant_city"],
                amount=amount,
                txid=data.get("txid"),
                description=data.get("description"),
                postal_code=data.get("postal_code"),
            )
        else:
            fail("informe key (Pix estático) ou location_url (Pix dinâmico)")
        result = brcode_json(payload)
    except PixError as exc:
        fail(str(exc))
    from quita.payments.qr import qr_png, qr_svg

    if png:
        png.write_bytes(qr_png(payload))
        result["png"] = str(png)
    if svg:
        svg.write_text(qr_svg(payload), encoding="utf-8")
        result["svg"] = str(svg)
    emit(result)


@pix_app.command("decode")
def pix_decode(payload: str = typer.Argument(..., help="BR Code (Pix copia e cola)")) -> None:
    """Parse and validate a Pix BR Code."""
    try:
        emit(brcode_json(payload))
    except PixError as exc:
        fail(str(exc))


# --- CNAB --------------------------------------------------------------------------------------------


@cnab_app.command("parse")
def cnab_parse(path: Path = typer.Argument(..., help="CNAB 240 or 400 return file")) -> None:
    """Parse a bank return file (retorno) into titles, occurrences and totals."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        fail(f"não foi possível ler {path}: {exc.strerror}")
    try:
        parsed = parse_cnab_return(content)
    except CnabError as exc:
        fail(str(exc))
    summary = parsed.summary
    emit(
        {
            "layout": parsed.layout,
            "bank": parsed.bank,
            "bank_name": parsed.bank_name,
            "file_date": parsed.file_date,
            "occurrence_table": parsed.occurrence_table,
            "titles": parsed.titles,
            "summary": summary,
            "warnings": parsed.warnings,
        }
    )


def _remessa_inputs(data: dict[str, Any]) -> tuple[str, Company, list[RemessaTitle], int, datetime]:
    try:
        company = Company(**data["company"])
        titles = []
        for raw in data["titles"]:
            item = dict(raw)
            item["payer"] = Payer(**item["payer"])
            item["due_date"] = date.fromisoformat(item["due_date"])
            item["issue_date"] = date.fromisoformat(item["issue_date"])
            item["amount"] = Decimal(str(item["amount"]))
            for name in ("fine_percent", "interest_percent_month"):
                if name in item:
                    item[name] = Decimal(str(item[name]))
            item["messages"] = tuple(item.get("messages", ()))
            titles.append(RemessaTitle(**item))
        generated = (
            datetime.fromisoformat(data["generated_at"]) if data.get("generated_at") else datetime.now()
        )
        return str(data["bank"]), company, titles, int(data.get("sequence", 1)), generated
    except KeyError as exc:
        fail(f"campo obrigatório ausente: {exc.args[0]}")
    except (TypeError, ValueError, InvalidOperation) as exc:
        fail(f"entrada inválida para a remessa: {exc}")


@cnab_app.command("remessa")
def cnab_remessa(
    source: str = typer.Argument(..., help="JSON: bank, company, titles[], sequence, generated_at"),
    out: Path = typer.Option(..., "--out", help="remessa file to write"),
) -> None:
    """Write a CNAB 240 remessa (registration of boletos) for Banco do Brasil (001) or Caixa (104)."""
    bank, company, titles, sequence, generated = _remessa_inputs(read_json_object(source))
    try:
        text = build_remessa_240(bank, company, titles, sequence=sequence, generated_at=generated)
    except RemessaError as exc:
        fail(str(exc))
    out.write_bytes(text.encode("latin-1"))
    emit({"out": str(out), "bank": bank, "titles": len(titles), "records": text.count("\r\n")})


# --- amounts -----------------------------------------------------------------------------------------


@app.command("amount")
def payments_amount(
    principal: str = typer.Option(..., help="principal, e.g. 1000.00"),
    due: str = typer.Option(..., help="due date YYYY-MM-DD"),
    on: str = typer.Option(None, help="payment date YYYY-MM-DD (default today)"),
    fine: str = typer.Option("0.02", help="fine rate as a fraction (≤ 0.02)"),
    rate: str = typer.Option(None, help="contractual monthly interest rate as a fraction"),
    legal_rate: str = typer.Option(None, help="legal monthly rate (Taxa Legal) as a fraction"),
    cap: str = typer.Option("0.01", help="monthly interest cap as a fraction"),
    financing_rate: str = typer.Option(None, help="embedded monthly rate, for early-payment discount"),
) -> None:
    """Itemised updated amount of a debt on a date."""
    try:
        terms = LatePaymentTerms(
            fine_rate=parse_money(fine, "multa"),
            monthly_interest_rate=parse_money(rate, "taxa") if rate else None,
            interest_cap_monthly=parse_money(cap, "teto"),
            **({"legal_monthly_rate": parse_money(legal_rate, "taxa legal")} if legal_rate else {}),
        )
        result = updated_amount(
            parse_money(principal, "principal"),
            parse_day(due, "vencimento"),
            parse_day(on, "data de pagamento") if on else date.today(),
            terms,
            financing_monthly_rate=parse_money(financing_rate, "taxa de financiamento")
            if financing_rate
            else None,
        )
    except AmountError as exc:
        fail(str(exc))
    emit(result)


# --- charges and reconciliation (database) -----------------------------------------------------------

account_app = typer.Typer(no_args_is_help=True, help="Conta de recebimento: banco do boleto, chave Pix, PSP.")
app.add_typer(account_app, name="account")


def _tenant_id(session: Any, tenant: str | None) -> Any:
    """The tenant named, or the only one when the database has just one."""
    import sqlalchemy as sa

    from quita.tenant import service as tenants
    from quita.tenant.models import Tenant

    if tenant:
        return tenants.get_tenant(session, tenant).id
    ids = session.scalars(sa.select(Tenant.id).limit(2)).all()
    if len(ids) != 1:
        fail("informe --tenant (há mais de um tenant, ou nenhum)")
    return ids[0]


def _charge_json(charge: Any) -> dict[str, Any]:
    from quita.kit.jsonable import jsonable

    data: dict[str, Any] = jsonable(
        {
            "id": charge.id,
            "kind": charge.kind,
            "status": charge.status,
            "amount": charge.amount,
            "itemisation": charge.itemisation,
            "due_date": charge.due_date,
            "bank": charge.bank,
            "nosso_numero": charge.nosso_numero,
            "linha_digitavel": charge.linha_digitavel,
            "barcode": charge.barcode,
            "txid": charge.txid,
            "brcode": charge.brcode,
            "pdf_path": charge.pdf_path,
        }
    )
    return data


@app.command("charge")
def payments_charge(
    tenant: str = typer.Option(..., "--tenant"),
    debt: str = typer.Option(..., "--debt", help="id externo do título (external_id)"),
    kind: str = typer.Option("boleto", "--kind", help="boleto | pix"),
    due: str = typer.Option(None, "--due", help="vencimento AAAA-MM-DD (padrão: daqui a 3 dias)"),
) -> None:
    """Emite um boleto ou uma cobrança Pix pelo valor atualizado do título (JSON na saída)."""
    from quita.kit.cli import cli_actor, open_database
    from quita.kit.errors import QuitaError
    from quita.payments import service
    from quita.payments.models import ChargeKind

    try:
        charge_kind = ChargeKind(kind)
    except ValueError:
        fail(f"--kind deve ser boleto ou pix, não {kind!r}")
    due_date = parse_day(due, "vencimento") if due else None
    database = open_database()
    try:
        with database.transaction() as session:
            tenant_id = _tenant_id(session, tenant)
            found = service.find_debt(session, tenant_id, debt)
            charge = service.issue_charge(
                session, tenant_id, found.id, kind=charge_kind, due_date=due_date, actor=cli_actor()
            )
            data = _charge_json(charge)
    except QuitaError as exc:
        fail(exc.message)
    finally:
        database.dispose()
    emit(data)


def _print_import(result: Any) -> None:
    from rich.table import Table

    from quita.kit.cli import console
    from quita.payments.models import PaymentOutcome

    table = Table(title=f"Retorno {result.filename}", show_header=False)
    table.add_row("layout / banco", f"CNAB {result.layout} · {result.bank} {result.bank_name}")
    if result.already_imported:
        table.add_row("situação", "[yellow]arquivo já importado: nada foi creditado de novo[/]")
    table.add_row("títulos no arquivo", str(result.titles))
    table.add_row("liquidações", str(result.settlements))
    table.add_row("outras ocorrências (ignoradas)", str(result.ignored))
    for outcome, label in (
        (PaymentOutcome.SETTLED, "quitados"),
        (PaymentOutcome.PARTIAL, "pagamentos parciais"),
        (PaymentOutcome.OVERPAID, "pagos a maior"),
        (PaymentOutcome.DUPLICATE, "pagamentos em duplicidade"),
        (PaymentOutcome.UNMATCHED, "sem cobrança correspondente"),
    ):
        table.add_row(label, str(result.count(outcome)))
    table.add_row("títulos marcados como pagos", str(result.debts_paid))
    table.add_row("valor creditado", f"R$ {result.credited}")
    console.print(table)
    reviews = [a for a in result.applied if a.review is not None]
    if reviews:
        listing = Table(title="Para revisão")
        for column in ("referência", "tipo", "valor", "mensagem"):
            listing.add_column(column)
        for item in reviews:
            listing.add_row(item.reference or "-", item.review.value, f"R$ {item.amount}", item.message)
        console.print(listing)
    for warning in result.warnings:
        console.print(f"[yellow]aviso:[/] {warning}")


def import_result_json(result: Any) -> dict[str, Any]:
    from quita.kit.jsonable import jsonable

    data: dict[str, Any] = jsonable(
        {
            "filename": result.filename,
            "sha256": result.content_hash,
            "layout": result.layout,
            "bank": result.bank,
            "already_imported": result.already_imported,
            "titles": result.titles,
            "settlements": result.settlements,
            "ignored": result.ignored,
            "credited": result.credited,
            "debts_paid": result.debts_paid,
            "warnings": list(result.warnings),
            "payments": [
                {
                    "reference": a.reference,
                    "outcome": a.outcome,
                    "amount": a.amount,
                    "credited": a.credited,
                    "debt_id": a.debt_id,
                    "debt_paid": a.debt_paid,
                    "review": a.review,
                    "message": a.message,
                }
                for a in result.applied
            ],
        }
    )
    return data


@app.command("import")
def payments_import(
    path: Path = typer.Argument(..., help="arquivo de retorno CNAB 240 ou 400"),
    tenant: str = typer.Option(None, "--tenant", help="obrigatório se houver mais de um tenant"),
    as_json: bool = typer.Option(False, "--json", help="resumo em JSON"),
) -> None:
    """Aplica um retorno CNAB: tudo ou nada, idempotente; liquidações quitam títulos, o resto vai para revisão."""
    from quita.kit.cli import cli_actor, open_database
    from quita.kit.errors import QuitaError
    from quita.payments.reconciliation import import_return

    try:
        content = path.read_bytes()
    except OSError as exc:
        fail(f"não foi possível ler {path}: {exc.strerror}")
    database = open_database()
    try:
        with database.transaction() as session:
            tenant_id = _tenant_id(session, tenant)
            result = import_return(session, tenant_id, content, filename=path.name, actor=cli_actor())
    except CnabError as exc:
        fail(f"{path.name}: {exc}. Nada foi aplicado.")
    except QuitaError as exc:
        fail(exc.message)
    finally:
        database.dispose()
    if as_json:
        typer.echo(json.dumps(import_result_json(result), ensure_ascii=False))
    else:
        _print_import(result)


@app.command("reviews")
def payments_reviews(
    tenant: str = typer.Option(None, "--tenant"),
    resolve: str = typer.Option(None, "--resolve", help="id do item a resolver"),
    note: str = typer.Option(None, "--note", help="resolução (com --resolve)"),
) -> None:
    """Lista pagamentos em revisão (não identificados, a maior, em duplicidade, parciais) ou resolve um."""
    import uuid

    from quita.kit.cli import cli_actor, open_database
    from quita.kit.errors import QuitaError
    from quita.kit.jsonable import jsonable
    from quita.payments import service

    database = open_database()
    try:
        with database.transaction() as session:
            tenant_id = _tenant_id(session, tenant)
            if resolve:
                try:
                    review_id = uuid.UUID(resolve)
                except ValueError:
                    fail(f"id inválido: {resolve!r}")
                item = service.resolve_review(
                    session, tenant_id, review_id, resolution=note or "", actor=cli_actor()
                )
                data: Any = {"id": str(item.id), "status": item.status.value}
            else:
                data = [
                    jsonable(
                        {
                            "id": r.id,
                            "kind": r.kind,
                            "expected": r.expected,
                            "received": r.received,
                            "message": r.message,
                            "created_at": r.created_at,
                        }
                    )
                    for r in service.list_reviews(session, tenant_id)
                ]
    except QuitaError as exc:
        fail(exc.message)
    finally:
        database.dispose()
    emit(data)


@account_app.command("set")
def account_set(
    tenant: str = typer.Option(..., "--tenant"),
    creditor: str = typer.Option(None, "--creditor", help="CNPJ do credor (padrão: conta do tenant)"),
    bank: str = typer.Option(None, "--bank", help="banco do boleto: 001, 033, 104, 237, 341, 748, 756"),
    boleto: str = typer.Option(
        None, "--boleto", help='JSON com os campos do convênio: {"agencia": ..., "conta": ...}'
    ),
    pix_key: str = typer.Option(None, "--pix-key"),
    merchant_name: str = typer.Option(None, "--merchant-name", help="nome no BR Code (até 25)"),
    merchant_city: str = typer.Option(None, "--merchant-city", help="cidade no BR Code (até 15)"),
    psp_url: str = typer.Option(None, "--psp-url", help="URL base da API Pix do PSP (sem /v2)"),
    psp_token_url: str = typer.Option(None, "--psp-token-url"),
    psp_client_id: str = typer.Option(None, "--psp-client-id"),
    psp_client_secret: str = typer.Option(None, "--psp-client-secret", envvar="QUITA_PSP_CLIENT_SECRET"),
    psp_cert: str = typer.Option(None, "--psp-cert", help="certificado do cliente (PEM) para mTLS"),
    psp_key: str = typer.Option(None, "--psp-key", help="chave privada (PEM) para mTLS"),
    psp_ca: str = typer.Option(None, "--psp-ca", help="CAs do PSP (PEM)"),
    webhook_secret: str = typer.Option(None, "--webhook-secret", envvar="QUITA_PIX_WEBHOOK_SECRET"),
) -> None:
    """Configura onde o tenant recebe. Segredos são guardados cifrados."""
    from quita.kit.cli import cli_actor, open_database
    from quita.kit.errors import QuitaError
    from quita.payments import service
    from quita.tenant import service as tenants

    changes: dict[str, Any] = {
        "bank": bank,
        "pix_key": pix_key,
        "merchant_name": merchant_name,
        "merchant_city": merchant_city,
        "psp_base_url": psp_url,
        "psp_token_url": psp_token_url,
        "psp_client_id": psp_client_id,
        "psp_client_secret": psp_client_secret,
        "psp_cert_path": psp_cert,
        "psp_key_path": psp_key,
        "psp_ca_path": psp_ca,
        "webhook_secret": webhook_secret,
    }
    if boleto is not None:
        try:
            fields = json.loads(boleto)
        except json.JSONDecodeError as exc:
            fail(f"--boleto: JSON inválido: {exc.msg}")
        if not isinstance(fields, dict):
            fail("--boleto: informe um objeto JSON")
        changes["boleto_fields"] = {str(k): str(v) for k, v in fields.items()}
    changes = {k: v for k, v in changes.items() if v is not None}
    database = open_database()
    try:
        with database.transaction() as session:
            tenant_id = _tenant_id(session, tenant)
            creditor_id = tenants.find_creditor(session, tenant_id, creditor).id if creditor else None
            account = service.configure_account(
                session, tenant_id, creditor_id=creditor_id, changes=changes, actor=cli_actor()
            )
            data = {
                "id": str(account.id),
                "bank": account.bank,
                "boleto_fields": account.boleto_fields,
                "pix_key": account.pix_key,
                "psp_base_url": account.psp_base_url,
                "psp_client_secret": "***" if account.psp_client_secret else None,
                "webhook_secret": "***" if account.webhook_secret else None,
            }
    except QuitaError as exc:
        fail(exc.message)
    finally:
        database.dispose()
    emit(data)
