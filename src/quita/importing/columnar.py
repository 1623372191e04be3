"""Validation and preparation of a whole block of rows at once, column by column.

``RowParser`` + ``Preparer`` cost ~100 µs of pure Python per row, which alone caps an import far
below 20,000 rows/s on two cores. A portfolio is mostly repetition: a debtor's cells recur on each of
its rows, and due dates, amounts, rates, products and original creditors recur thousands of times.
So a block is transposed into columns and each distinct raw value (or debtor tuple) is validated
once, by the very same ``RowParser``/``Preparer`` code, and remembered in its database form; every
per-row step left — stripping, joining, hashing, memo look-ups, building ``COPY`` lines — runs as
``map``/``zip`` over built-in functions, without a Python frame per row.

A row is handed to the row-at-a-time path, which produces the exact report, whenever anything about
it is unusual: a wrong number of cells, or any value that the row path would reject. So the rows and
errors this produces are those of ``RowParser.parse`` + ``Preparer`` by construction (tests compare
the two on files with defects).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Sequence
from functools import partial
from itertools import repeat
from operator import add, itemgetter, methodcaller
from typing import Any

import numpy as np

from quita.importing.domain.rows import (
    CACHE_LIMIT,
    DEBT_FIELDS,
    DEBTOR_FIELDS,
    RowParser,
    _cnpj,
    _installment,
    _optional,
    _rate,
    _tag_set,
)
from quita.importing.prepared import Preparer, _cents, _decimal_text, _int_text, _rate_sqlite, _tags
from quita.kit.db.bulk import _COPY_ESCAPES, COPY_NULL, copy_line
from quita.portfolio.domain import identity

_BAD: Any = object()  # a memo entry for a value the row path rejects: such rows go through it
# The same derivation as ``identity._derive_hex`` (checked by tests): keyed BLAKE2b, UUID v4 bits.
_ID_HASH = partial(hashlib.blake2b, digest_size=16, key=identity._SALT)
_FINGERPRINT_HASH = partial(hashlib.blake2b, digest_size=16)
_DIGEST = methodcaller("digest")
_HEXDIGEST = methodcaller("hexdigest")
_SPLIT = methodcaller("split")
_UNDOT = methodcaller("replace", ".", "")
_UNMASK = methodcaller("replace", "-", "")
_UUID_MASK = np.array([0xFF] * 6 + [0x0F, 0xFF, 0x3F] + [0xFF] * 7, dtype=np.uint8)
_UUID_BITS = np.array([0] * 6 + [0x40, 0, 0x80] + [0] * 7, dtype=np.uint8)


def _copy_text(value: Any) -> str:
    """One value as ``COPY`` text, as ``kit.db.bulk.copy_line`` writes it."""
    return COPY_NULL if value is None else value.translate(_COPY_ESCAPES)


def _tags_py(value: tuple[str, ...] | None) -> list[str] | None:
    return list(value) if value else None


def derived_ids_hex(prefix: str, keys: Sequence[str]) -> tuple[list[str], list[int]]:
    """``identity._derive_hex(prefix + key)`` for many keys, and the first 64 bits of each as an int."""
    if not keys:
        return [], []
    digests = b"".join(map(_DIGEST, map(_ID_HASH, map(str.encode, map(prefix.__add__, keys)))))
    array = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 16) & _UUID_MASK | _UUID_BITS
    text = array.tobytes().hex()
    ids = [text[i:i + 32] for i in range(0, len(text), 32)]
    return ids, array.view(">u8")[:, 0].tolist()


# Every character str.strip removes, except the line break (a record's end): ~30 of them.
_SPACES = tuple(char for char in map(chr, range(0x110000)) if char.isspace() and char != "\n")


def _needs_strip(text: str, delimiter: str) -> bool:
    """Whether some cell of quote-free ``text`` starts or ends with whitespace (as ``str.strip`` sees it),
    found with substring searches (C speed) for each whitespace character the text holds."""
    for space in _SPACES:
        if space in text and (space + delimiter in text or delimiter + space in text or space + "\n" in text or "\n" + space in text
                or text.startswith(space) or text.endswith(space)):
            return True
    return False


def split_text(text: str, delimiter: str) -> tuple[list[list[str]], list[str] | None] | None:
    """The records of a block of CSV text, as ``csv.reader`` reads them, when the block has no quote
    character (then a record is a line and a cell is what lies between delimiters). Also, when no cell
    starts or ends with whitespace, each record joined as the fingerprint joins stripped cells, which
    spares stripping every cell. ``None`` when the block needs the csv module (quotes, a lone carriage
    return, a NUL, which csv rejects, a field longer than csv accepts)."""
    if '"' in text or "\x00" in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()  # the block's last line break ends its last record
    if lines and max(map(len, lines)) > csv.field_size_limit():
        return None
    rows = list(map(methodcaller("split", delimiter), lines))
    if "" in lines:  # csv reads an empty line as a record without cells
        rows = [row if line else [] for row, line in zip(rows, lines, strict=True)]
    if _needs_strip(text, delimiter):
        return rows, None
    return rows, list(map(add, map(methodcaller("replace", delimiter, "\x1f"), lines), repeat("\x1f")))


class BlockParser:
    """Validates and prepares blocks of rows of one file; see the module docstring."""

    def __init__(self, parser: RowParser, preparer: Preparer) -> None:
        self.parser, self.prepare = parser, preparer
        cmap = parser.cmap
        self.width = width = len(cmap.headers)
        self.blank = "\x1f" * width  # a row of empty cells, joined as the fingerprint joins it
        self._header = "\x1f".join(cmap.headers).encode()
        self._debtor_at = [cmap.fields.get(f, width) for f in DEBTOR_FIELDS]
        self._contact_at = [*parser._contact_positions, cmap.fields.get("contact_provenance", width)]
        self._document_index = DEBTOR_FIELDS.index("document")
        self._debt_at = {f: cmap.fields.get(f, width) for f in DEBT_FIELDS}
        self._derived_id = parser._derived_id
        self._parties: dict[tuple[str, ...], Any] = {}
        postgres = preparer.postgres
        # field -> (validate raw into a Python value, or _BAD; Python value into the driver's form)
        problems: list[Any] = []

        def checked(compute: Callable[[str], Any]) -> Callable[[str], Any]:
            def run(raw: str) -> Any:
                problems.clear()
                value = compute(raw)
                return _BAD if problems else value
            return run

        def due(raw: str) -> Any:
            return parser._due_date(raw, problems) if raw else _BAD

        def rate(name: str) -> Callable[[str], Any]:
            return checked(lambda raw: _rate(raw, name, problems))

        def cnpj(name: str) -> Callable[[str], Any]:
            return checked(lambda raw: _cnpj(raw, name, problems))

        def optional(limit: int) -> Callable[[str], Any]:
            return lambda raw: _optional(raw, limit)

        def same(value: Any) -> Any:
            return value

        def decimal_text(value: Any) -> Any:
            return COPY_NULL if value is None else _decimal_text(value)

        def int_text(value: Any) -> Any:
            return COPY_NULL if value is None else _int_text(value)

        def tags_db(value: Any) -> Any:
            return text(_tags(value))

        text = _copy_text if postgres else same
        self._fields: dict[str, tuple[Callable[[str], Any], Callable[[Any], Any]]] = {
            "contract": (optional(80), text),
            "installment": (checked(lambda raw: _installment(raw, problems)), int_text if postgres else same),
            "product": (optional(100), text),
            "due_date": (checked(due), methodcaller("isoformat")),
            "principal": (checked(lambda raw: parser._principal(raw, problems)), str if postgres else _cents),
            "fine_rate": (rate("fine_rate"), decimal_text if postgres else _rate_sqlite),
            "interest_rate": (rate("interest_rate"), decimal_text if postgres else _rate_sqlite),
            "original_creditor_name": (optional(200), text),
            "original_creditor_cnpj": (cnpj("original_creditor_cnpj"), text),
            "creditor_cnpj": (cnpj("creditor_cnpj"), preparer.creditor_of),
            "tags": (_tag_set, tags_db),
        }
        self._py_memos: dict[str, dict[str, Any]] = {name: {} for name in self._fields}
        self._db_memos: dict[str, dict[str, Any]] = {name: {} for name in self._fields}
        # Python values travel only when rows may already exist (see Preparer.keep_python); the creditor's
        # CNPJ always does, and contract and installment make the id when the file has no id column.
        self._py_needed = set(self._fields) if preparer.keep_python else {"creditor_cnpj", "contract", "installment"}
        self._rejects: dict[str, set[str]] = {name: set() for name in self._fields}
        self._bad_parties: set[tuple[str, ...]] = set()
        self._keep = preparer.keep_python
        self._debt_prefix = f"{preparer.tenant}:debt:"
        self._debt_tail = copy_line(preparer._debt_tail) if postgres else None

    # --- per-column helpers -----------------------------------------------------------------------------
    def _column(self, name: str, column: Sequence[str]) -> tuple[list[Any] | None, list[Any], set[str]]:
        """The Python values (when needed) and driver forms of one column, and those of its raw values the
        row path rejects (their rows go through it)."""
        py_memo, db_memo, rejects = self._py_memos[name], self._db_memos[name], self._rejects[name]
        if len(db_memo) > CACHE_LIMIT:
            py_memo.clear()
            db_memo.clear()
            rejects.clear()
        validate, convert = self._fields[name]
        distinct = set(column)
        for raw in distinct.difference(db_memo):
            value = validate(raw)
            if value is _BAD:
                rejects.add(raw)
                py_memo[raw], db_memo[raw] = None, ""
            else:
                py_memo[raw], db_memo[raw] = value, convert(value)
        py = list(map(py_memo.__getitem__, column)) if name in self._py_needed else None
        return py, list(map(db_memo.__getitem__, column)), distinct & rejects

    def _new_parties(self, keys: set[tuple[str, ...]]) -> None:
        """Validates the debtor and contacts of tuples of raw cells not seen yet and remembers, for each,
        (debtor id, debtor row, contact rows, debtor's Python values) or _BAD; ids are derived in bulk."""
        parser, prepare, n = self.parser, self.prepare, len(DEBTOR_FIELDS)
        good = []
        for key in keys:
            debtor, debtor_problems = parser._debtor(key[:n])  # the document is already unmasked
            contacts, contact_problems = parser._contacts(key[n:])
            if debtor_problems or contact_problems or debtor is None or contacts is None:
                self._bad_parties.add(key)
                self._parties[key] = ("", "", (), None)
            else:
                good.append((key, debtor, contacts))
        if not good:
            return
        tenant = prepare.tenant
        debtor_ids, _ = derived_ids_hex(f"{tenant}:debtor:", [d.document for _, d, _ in good])
        contact_keys = [f"{h}:{c.kind}:{c.value}" for h, (_, _, cs) in zip(debtor_ids, good, strict=True) for c in cs]
        contact_ids = iter(derived_ids_hex(f"{tenant}:contact:", contact_keys)[0])
        keep = self._keep
        for debtor_hex, (key, d, contacts) in zip(debtor_ids, good, strict=True):
            debtor_db, contacts_db = prepare.debtor_rows(d, contacts, debtor_hex, [next(contact_ids) for _ in contacts])
            debtor_py = None
            if keep:
                debtor_py = (d.document, d.name, d.document_kind, d.birth_date, d.street, d.number, d.complement,
                             d.district, d.city, d.uf, d.cep, d.ibge_code)
            self._parties[key] = (debtor_hex, debtor_db, contacts_db, debtor_py)

    # --- a block ----------------------------------------------------------------------------------------------
    def parse(self, rows: list[list[str]], first: int, joined: list[str] | None = None,
              ) -> tuple[list[Any], list[int], int]:
        """Returns, per row (numbered from ``first``), a prepared row, ``None`` (blank) or ``False`` (to be
        parsed row by row); the indexes of the ``False`` ones; the number of blank rows. ``joined`` (from
        ``split_text``) means no cell needs stripping and gives each row's cells joined as the
        fingerprint joins them."""
        n = len(rows)
        if not n:
            return [], [], 0
        width = self.width
        irregular: set[int] = set()
        if set(map(len, rows)) != {width}:
            filler = [""] * width
            irregular = {i for i, row in enumerate(rows) if len(row) != width}
            rows = [filler if i in irregular else row for i, row in enumerate(rows)]
        slow = set(irregular)
        columns: list[Sequence[str]]
        if joined is None:
            columns = [list(map(str.strip, column)) for column in zip(*rows, strict=True)]
            columns.append([""] * n)  # the empty cell absent fields point to
            joined = list(map("\x1f".join, zip(*columns, strict=True)))
        else:
            columns = list(zip(*rows, strict=True))
            columns.append([""] * n)
        blank: set[int] = set()
        if self.blank in joined:
            blank = {i for i, text in enumerate(joined) if text == self.blank} - irregular

        # Debtor and contacts: one validation per distinct tuple of raw cells.
        parties, bad_parties = self._parties, self._bad_parties
        if len(parties) > CACHE_LIMIT:
            parties.clear()
            bad_parties.clear()
        # Dots and dashes never change what a document parses to (see RowParser.parse): one debtor's rows,
        # masked differently, share one entry.
        key_columns = [columns[p] for p in (*self._debtor_at, *self._contact_at)]
        key_columns[self._document_index] = list(map(_UNMASK, map(_UNDOT, key_columns[self._document_index])))
        keys = list(zip(*key_columns, strict=True))
        distinct = set(keys)
        missing = distinct.difference(parties)
        if missing:
            self._new_parties(missing)
        party = list(map(parties.__getitem__, keys))
        if not bad_parties.isdisjoint(distinct):
            slow.update(i for i, key in enumerate(keys) if key in bad_parties)

        # Debt: one validation per distinct raw value of each column.
        py: dict[str, Any] = {}
        db: dict[str, list[Any]] = {}
        for name in self._fields:
            column = columns[self._debt_at[name]]
            py[name], db[name], bad = self._column(name, column)
            if bad:
                slow.update(i for i, raw in enumerate(column) if raw in bad)
        external: list[Any]
        if self._derived_id:
            external = [None if c is None else (f"{c}/{i}" if i is not None else c)
                        for c, i in zip(py["contract"], py["installment"], strict=True)]
        else:
            external = list(map(" ".join, map(_SPLIT, columns[self._debt_at["external_id"]])))
        if None in external or "" in external or max(map(len, external)) > 80:
            slow.update(i for i, e in enumerate(external) if not e or len(e) > 80)
            external = [e or "" for e in external]

        debt_ids, keys64 = derived_ids_hex(self._debt_prefix, external)
        header = self._header
        fingerprints = list(map(_HEXDIGEST, map(_FINGERPRINT_HASH, map(header.__add__, map(str.encode, joined)))))
        debtor_ids = list(map(itemgetter(0), party))
        creditors = db["creditor_cnpj"]
        if self._debt_tail is not None:
            external_db = external
            if "\\" in "".join(external):
                external_db = [e.translate(_COPY_ESCAPES) for e in external]
            debt_db: list[Any] = list(map("\t".join, zip(
                debt_ids, debtor_ids, creditors, external_db, db["contract"], db["installment"], db["product"],
                db["original_creditor_name"], db["original_creditor_cnpj"], db["principal"], db["due_date"],
                db["fine_rate"], db["interest_rate"], db["tags"], fingerprints, repeat(self._debt_tail),
                strict=False,
            )))
        else:
            tail = self.prepare._debt_tail
            debt_db = list(zip(
                debt_ids, debtor_ids, creditors, external, db["contract"], db["installment"], db["product"],
                db["original_creditor_name"], db["original_creditor_cnpj"], db["principal"], db["due_date"],
                db["fine_rate"], db["interest_rate"], db["tags"], fingerprints, *map(repeat, tail), strict=False,
            ))
        debtor_py: Any = repeat(None)
        debt_py: Any = repeat(None)
        if self._keep:
            debtor_py = map(itemgetter(3), party)
            debt_py = zip(
                external, py["contract"], py["installment"], py["product"], py["original_creditor_name"],
                py["original_creditor_cnpj"], py["principal"], py["due_date"], py["fine_rate"],
                py["interest_rate"], map(_tags_py, py["tags"]), strict=False,
            )
        prepared: list[Any] = list(zip(
            range(first, first + n), keys64, external, py["creditor_cnpj"], fingerprints, debt_ids, debtor_ids,
            creditors, map(itemgetter(1), party), map(itemgetter(2), party), debt_db, debtor_py, debt_py,
            strict=False,
        ))
        slow -= blank
        for i in blank:
            prepared[i] = None
        for i in slow:
            prepared[i] = False
        return prepared, sorted(slow), len(blank)
