"""Streaming intake of molecule tables (csv, tsv, smi, sdf; optionally gzipped) as row chunks.

Every input record yields exactly one row. Each chunk is a DataFrame with columns

- ``row``: 1-based input data row number, contiguous over the whole file (blank lines and
  header are not rows; an SDF record is one row);
- ``id``: the ``id_column`` value as a string (SDF: the name line, or the property named by
  ``id_column``; a broken block keeps its name line); a blank id -> ``#<row>``, no id column
  (CSV/TSV) -> the row number (``drugnet.io.ids``);
- ``input_smiles``: the SMILES as written (SDF: ``MolToSmiles`` of the parsed block, "" when the
  block does not parse);
- ``read_error``: "" or a reject reason found while reading (below);
- the requested extra columns (targets, label columns), raw strings ("" when absent).

What a row is. CSV/TSV: a record as the RFC 4180 tokenizer reads it (``"`` quotes, ``""``
inside quotes, quoted fields may contain the delimiter and line breaks); a blank line (only
whitespace and no delimiter) is not a row; the first other record is the header. Lines end at
LF, CRLF or CR (inside quoted fields too, where each reads as LF). ``.smi``: each line that is
not blank, whitespace-separated ``SMILES [name]``, no header. SDF: text up to and including
``$$$$`` (the last record may lack it; whitespace between records is not a record).

Rows that cannot be used get a ``read_error`` instead of stopping the read (the reason's
category is the text before the first ':'):

- ``malformed_line: expected N fields, found M (line L)``: a CSV/TSV record whose number of
  fields differs from the header's (too many or too few; nothing is guessed);
- ``malformed_line: <tokenizer message> (line L)``: a record that cannot be tokenized (text
  after a closing quote, an unterminated quote, a field over ``csv.field_size_limit()``
  characters). ``L`` is the physical line (1-based, counting header and blank lines) where the
  record starts. A malformed record that spans several lines (typically a stray ``"`` that
  swallowed the following lines) counts as one row for its first line only; tokenizing resumes
  on the next line, so a stray quote costs one row, not its neighbours;
- ``encoding_error: invalid UTF-8 in column 'C' (line L)`` (``.smi``: ``invalid UTF-8 (line L)``;
  SDF: ``invalid UTF-8 in the name line`` or ``in SD property 'C'``): text is decoded as UTF-8
  (a UTF-8 BOM is ignored); a byte sequence that is not UTF-8 (e.g. a latin-1 spreadsheet)
  rejects the row only when it is in a field that is read (SMILES, id, requested columns);
  elsewhere it is replaced by U+FFFD. Nothing is guessed: re-save such files as UTF-8;
- ``broken_sdf_block``: an SDF record that does not parse (``ForwardSDMolSupplier`` with
  ``sanitize=False``, so it neither vanishes nor swallows its neighbours);
  ``broken_sdf_block: record larger than 16 MiB``: not parsed (memory bound);
- ``too_many_atoms``: an SDF record with more than ``max_record_atoms`` atoms (default
  ``DEFAULT_MAX_RECORD_ATOMS`` = 1000), not sanitized and no SMILES written (RDKit needs
  minutes for SMILES of large polycyclic records and overflows the stack on ~20,000-atom chains).

All strings in the chunks are valid Unicode (no lone surrogates). CSV/TSV values are raw
strings (nothing coerced; SMILES and id are stripped of surrounding whitespace); header names
are stripped too (the rule ``check-config`` uses: ``smiles, id`` has a column ``id``); with a
header naming a column twice, the first one is read.

File-level problems raise ``InputError`` (message names the file): missing file, unknown
format, empty input (no header or no data rows), a missing column (the message lists the
columns found and, when the header is one field containing another delimiter, says so), a
header that cannot be tokenized, a UTF-16/UTF-32 file (byte-order mark, or UTF-16 without one:
every other byte zero), and a corrupt or
truncated gzip stream (raised when reached, possibly after earlier chunks). A requested SD
property must occur in at least one of the first ``SDF_PROPERTY_WINDOW`` records (independent of
``chunk_size``).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import os
import re
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, cast

import pandas as pd
from rdkit import Chem, rdBase

from drugnet.io.ids import placeholder
from drugnet.io.rejects import (
    BROKEN_SDF_BLOCK,
    DEFAULT_MAX_RECORD_ATOMS,
    ENCODING_ERROR,
    MALFORMED_LINE,
    TOO_MANY_ATOMS,
)

FORMATS = ("csv", "tsv", "smi", "sdf")
BASE_COLUMNS = ("row", "id", "input_smiles", "read_error")
SDF_MAX_RECORD_BYTES = 16 * 2**20
SDF_PROPERTY_WINDOW = 2000

_SURROGATE = re.compile("[\udc80-\udcff]")
_OTHER_DELIMITERS = (";", "\t", ",", "|")


class InputError(ValueError):
    """The input file cannot be read as asked (missing, empty, missing column, malformed)."""


def detect_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """Return ``fmt`` if given, else the format from the extension (``.gz`` is looked through)."""
    if fmt is not None:
        fmt = fmt.lower().lstrip(".")
        if fmt not in FORMATS:
            raise InputError(f"{path}: unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
        return fmt
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    ext = suffixes[-1].lstrip(".") if suffixes else ""
    if ext in ("txt", "tab"):
        ext = "tsv"
    if ext not in FORMATS:
        raise InputError(
            f"{path}: cannot tell the format from the extension "
            f"(expected .csv .tsv .smi .sdf, optionally .gz); pass the format explicitly"
        )
    return ext


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _open_binary(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if _is_gzip(path) else open(path, "rb")


def _open_text(path: Path) -> io.TextIOWrapper:
    """UTF-8 text with universal newlines; a leading BOM is dropped, bytes that are not UTF-8
    become lone surrogates (``surrogateescape``) so the caller can reject just those fields."""
    binary = cast(BinaryIO, _open_binary(path))
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline=None)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: input file not found")
    if not path.is_file():
        raise InputError(f"{path}: not a file")


def _check_not_utf16(path: Path) -> None:
    with _open_binary(path) as fh:
        sample = fh.read(4096)
    start = sample[:4]
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # also UTF-32 LE
        raise InputError(
            f"{path}: the file is UTF-16 or UTF-32 encoded (byte-order mark); save it as UTF-8"
        )
    if start == codecs.BOM_UTF32_BE:
        raise InputError(f"{path}: the file is UTF-32 encoded (byte-order mark); save it as UTF-8")
    if _looks_utf16(sample):
        raise InputError(
            f"{path}: the file looks UTF-16 encoded without a byte-order mark (every other byte "
            "is zero); save it as UTF-8"
        )


def _looks_utf16(sample: bytes) -> bool:
    """Text whose bytes at even or at odd positions are mostly NUL: UTF-16 (or UTF-32) without
    BOM."""
    pairs = len(sample) // 2
    if pairs < 2:
        return False
    even, odd = sample[0 : 2 * pairs : 2].count(0), sample[1 : 2 * pairs : 2].count(0)
    return max(even, odd) >= 0.6 * pairs


def _has_bad_bytes(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def _clean(text: str) -> str:
    """``text`` with undecodable bytes (lone surrogates) replaced by U+FFFD."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_chunks(
    path: str | os.PathLike,
    *,
    smiles_column: str = "smiles",
    id_column: str | None = None,
    columns: Sequence[str] = (),
    chunk_size: int = 2000,
    fmt: str | None = None,
    max_record_atoms: int = DEFAULT_MAX_RECORD_ATOMS,
) -> Iterator[pd.DataFrame]:
    """Yield the file as DataFrames of at most ``chunk_size`` rows (see the module docstring).

    ``columns`` are extra columns to carry as raw strings (targets, label columns). Raises
    ``InputError`` for file-level problems (module docstring); record-level problems are rows
    with a ``read_error``. ``max_record_atoms`` applies to SDF records.
    """
    path = Path(path)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    _check_file(path)
    kind = detect_format(path, fmt)
    columns = list(dict.fromkeys(columns))
    if kind == "smi" and columns:
        raise InputError(
            f"{path}: .smi files carry only 'SMILES [name]'; cannot read columns {columns}"
        )
    n_rows = 0
    try:
        _check_not_utf16(path)
        if kind in ("csv", "tsv"):
            chunks = _read_delimited(
                path, "," if kind == "csv" else "\t", smiles_column, id_column, columns, chunk_size
            )
        elif kind == "smi":
            chunks = _read_smi(path, chunk_size)
        else:
            chunks = _read_sdf(path, id_column, columns, chunk_size, max_record_atoms)
        for chunk in chunks:
            n_rows += len(chunk)
            yield chunk
    except (OSError, EOFError, zlib.error) as exc:  # corrupt or truncated gzip stream
        raise InputError(f"{path}: cannot read after data row {n_rows}: {exc}") from None
    if n_rows == 0:
        raise InputError(f"{path}: empty input (no data rows)")


def _frame(
    rows: list[int],
    ids: list[str],
    smiles: list[str],
    errors: list[str],
    extras: dict[str, list[str]],
) -> pd.DataFrame:
    data: dict[str, object] = {
        "row": pd.Series(rows, dtype="int64"),
        "id": pd.Series(ids, dtype=object),
        "input_smiles": pd.Series(smiles, dtype=object),
        "read_error": pd.Series(errors, dtype=object),
    }
    for name, values in extras.items():
        data[name] = pd.Series(values, dtype=object)
    return pd.DataFrame(data)


def _chunked(
    records: Iterable[tuple[str, str, str, Sequence[str]]],
    columns: list[str],
    chunk_size: int,
    named: bool = True,
) -> Iterator[pd.DataFrame]:
    """Frames of ``(id or "", input_smiles, read_error, extra values)`` records, numbered from 1.

    A blank id becomes ``#<row>`` when the file has ids (``named``: an id column, SDF or .smi
    names), else the plain row number (``drugnet.io.ids``): a placeholder never equals a real id.
    """
    start = 1
    it = iter(records)
    while True:
        batch = list(itertools.islice(it, chunk_size))
        if not batch:
            return
        rows = list(range(start, start + len(batch)))
        start += len(batch)
        ids = [
            ident or (placeholder(row) if named else str(row))
            for (ident, _, _, _), row in zip(batch, rows, strict=False)
        ]
        extras = {c: [r[3][j] for r in batch] for j, c in enumerate(columns)}
        yield _frame(rows, ids, [r[1] for r in batch], [r[2] for r in batch], extras)


def _missing_column_error(path: Path, what: str, column: str, found: Iterable[str]) -> InputError:
    found = list(found)
    hint = ""
    if len(found) == 1:
        others = [d for d in _OTHER_DELIMITERS if d in found[0]]
        if others:
            hint = (
                f" (the header is one field containing {others[0]!r}: wrong delimiter or format?)"
            )
    return InputError(f"{path}: {what} column {column!r} not found; columns found: {found}{hint}")


class _Lines:
    """Physical text lines of a file with their 1-based numbers, for ``csv.reader``.

    ``taken`` holds the lines of the record being read; ``push_back`` re-queues lines so
    tokenizing can resume after the first line of a malformed multi-line record.
    """

    def __init__(self, fh: Iterable[str]) -> None:
        self._fh = iter(fh)
        self._number = 0
        self._pending: deque[tuple[int, str]] = deque()
        self.taken: list[tuple[int, str]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._pending:
            item = self._pending.popleft()
        else:
            line = next(self._fh)
            self._number += 1
            item = (self._number, line)
        self.taken.append(item)
        return item[1]

    def push_back(self, items: list[tuple[int, str]]) -> None:
        self._pending.extendleft(reversed(items))

    def records(self, sep: str) -> Iterator[tuple[list[str] | None, str, list[tuple[int, str]]]]:
        """``(fields or None, tokenizer error, lines taken)`` per record; blank lines skipped."""
        reader = csv.reader(self, delimiter=sep, quotechar='"', doublequote=True, strict=True)
        while True:
            self.taken = []
            try:
                fields: list[str] | None = next(reader)
                error = ""
            except StopIteration:
                return
            except csv.Error as exc:
                fields, error = None, str(exc)
            taken = self.taken
            if not taken:  # nothing was read (defensive: the reader raised before taking a line)
                return
            if (
                fields is not None
                and len(taken) == 1
                and not taken[0][1].strip()
                and sep not in taken[0][1]
            ):
                continue  # blank line (a line holding a delimiter is a row of empty fields)
            yield fields, error, taken


def _read_delimited(
    path: Path,
    sep: str,
    smiles_column: str,
    id_column: str | None,
    columns: list[str],
    chunk_size: int,
) -> Iterator[pd.DataFrame]:
    kind = "CSV" if sep == "," else "TSV"
    with _open_text(path) as fh:
        lines = _Lines(fh)
        records = lines.records(sep)
        first = next(records, None)
        if first is None:
            raise InputError(f"{path}: empty input (no header and no data rows)")
        fields, error, taken = first
        if fields is None:
            raise InputError(
                f"{path}: cannot parse the header (line {taken[0][0]}) as {kind}: {error}"
            )
        header = [
            _clean(f).strip() for f in fields
        ]  # as check-config reads it: "smiles, id" names "id"
        index: dict[str, int] = {}
        for i, name in enumerate(header):
            index.setdefault(name, i)
        if smiles_column not in index:
            raise _missing_column_error(path, "smiles", smiles_column, header)
        if id_column is not None and id_column not in index:
            raise _missing_column_error(path, "id", id_column, header)
        for column in columns:
            if column not in index:
                raise _missing_column_error(path, "label", column, header)
        n_fields = len(header)
        smiles_at = index[smiles_column]
        id_at = index[id_column] if id_column is not None else None
        wanted = [
            (name, index[name])
            for name in dict.fromkeys(
                [smiles_column, *([id_column] if id_column is not None else []), *columns]
            )
        ]
        blanks = [""] * len(columns)

        def rows() -> Iterator[tuple[str, str, str, Sequence[str]]]:
            for fields, error, taken in records:
                line = taken[0][0]
                if fields is not None and len(fields) != n_fields:
                    error = f"expected {n_fields} fields, found {len(fields)}"
                    fields = None
                if fields is None:
                    if len(taken) > 1:  # re-read the lines a stray quote swallowed
                        lines.push_back(taken[1:])
                    yield "", "", f"{MALFORMED_LINE}: {error} (line {line})", blanks
                    continue
                read_error = ""
                bad = [name for name, i in wanted if _has_bad_bytes(fields[i])]
                if bad:
                    read_error = (
                        f"{ENCODING_ERROR}: invalid UTF-8 in column {bad[0]!r} (line {line})"
                    )
                    fields = [_clean(f) for f in fields]
                ident = fields[id_at].strip() if id_at is not None else ""
                yield (
                    ident,
                    fields[smiles_at].strip(),
                    read_error,
                    [fields[index[c]] for c in columns],
                )

        yield from _chunked(rows(), columns, chunk_size, named=id_column is not None)


def _read_smi(path: Path, chunk_size: int) -> Iterator[pd.DataFrame]:
    def rows() -> Iterator[tuple[str, str, str, Sequence[str]]]:
        with _open_text(path) as fh:
            for number, line in enumerate(fh, 1):
                fields = line.strip().split(None, 1)
                if not fields:
                    continue
                smiles = fields[0]
                ident = fields[1].strip() if len(fields) > 1 else ""
                error = ""
                if _has_bad_bytes(line):
                    error = f"{ENCODING_ERROR}: invalid UTF-8 (line {number})"
                    smiles, ident = _clean(smiles), _clean(ident)
                yield ident, smiles, error, ()

    return _chunked(rows(), [], chunk_size)


def _sdf_blocks(fh: io.BufferedIOBase) -> Iterator[tuple[bytes, bool]]:
    """Raw SDF records (text up to and including ``$$$$``; the last may lack it) and whether
    the record was larger than ``SDF_MAX_RECORD_BYTES`` (then only its first line is kept).

    Whitespace-only stretches (e.g. trailing blank lines) are not records.
    """
    lines: list[bytes] = []
    size = 0
    oversized = False
    content = False
    for number, line in enumerate(fh):
        if number == 0 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        if line.rstrip() == b"$$$$":
            if content:
                yield b"".join(lines) + (b"" if oversized else line), oversized
            lines, size, oversized, content = [], 0, False, False
            continue
        content = content or bool(line.strip())
        if oversized:
            continue
        size += len(line)
        if size > SDF_MAX_RECORD_BYTES:
            oversized = True
            lines = lines[:1] or [line]
            continue
        lines.append(line)
    if content:
        yield b"".join(lines), oversized


def _parse_sdf_block(block: bytes) -> Chem.Mol | None:
    try:
        supplier = Chem.ForwardSDMolSupplier(io.BytesIO(block), sanitize=False, removeHs=False)
        return next(iter(supplier), None)
    except Exception:  # noqa: BLE001 - RDKit raises several types for broken records
        return None


def _name_line(block: bytes) -> str:
    return block.split(b"\n", 1)[0].decode("utf-8", "replace").strip()


def _sdf_record(
    block: bytes, oversized: bool, id_column: str | None, columns: list[str], max_atoms: int
) -> tuple[str, str, str, list[str], list[str] | None]:
    """(id or "", input_smiles, read_error, extra values, property names or None when the
    record does not parse) of one SDF record."""
    blanks = [""] * len(columns)
    if oversized:
        name = _name_line(block) if id_column is None else ""
        return (
            name,
            "",
            f"{BROKEN_SDF_BLOCK}: record larger than {SDF_MAX_RECORD_BYTES // 2**20} MiB",
            blanks,
            None,
        )
    try:
        block.decode("utf-8")
        dirty = False
    except UnicodeDecodeError:  # RDKit's property getters would raise; parse a cleaned copy
        block = block.decode("utf-8", "replace").encode("utf-8")
        dirty = True
    mol = _parse_sdf_block(block)
    if mol is None:
        name = _name_line(block) if id_column is None else ""
        return name, "", BROKEN_SDF_BLOCK, blanks, None
    props = list(mol.GetPropNames())
    if id_column is None:
        ident = mol.GetProp("_Name").strip() if mol.HasProp("_Name") else ""
    else:
        ident = mol.GetProp(id_column).strip() if mol.HasProp(id_column) else ""
    extras = [mol.GetProp(c) if mol.HasProp(c) else "" for c in columns]
    error = ""
    if dirty:
        # invalid bytes now read U+FFFD; only the fields that are read can reject the record
        where = [
            "the name line" if id_column is None else f"SD property {id_column!r}",
            *(f"SD property {c!r}" for c in columns),
        ]
        bad = [w for w, value in zip(where, [ident, *extras], strict=False) if "\ufffd" in value]
        if bad:
            error = f"{ENCODING_ERROR}: invalid UTF-8 in {bad[0]}"
    if mol.GetNumAtoms() > max_atoms:
        return ident, "", TOO_MANY_ATOMS, extras, props
    # Sanitization failures (valence, aromaticity) are left to standardization, which
    # re-parses input_smiles and names the reason; an unsanitized mol still writes SMILES.
    try:
        Chem.SanitizeMol(mol, catchErrors=True)
        return ident, Chem.MolToSmiles(mol), error, extras, props
    except Exception:  # noqa: BLE001 - RDKit raises several types for broken structures
        return ident, "", error or BROKEN_SDF_BLOCK, extras, props


def _read_sdf(
    path: Path, id_column: str | None, columns: list[str], chunk_size: int, max_atoms: int
) -> Iterator[pd.DataFrame]:
    with _open_binary(path) as fh, rdBase.BlockLogs():
        records = (
            _sdf_record(block, oversized, id_column, columns, max_atoms)
            for block, oversized in _sdf_blocks(fh)
        )
        head = list(itertools.islice(records, SDF_PROPERTY_WINDOW))
        wanted = ([id_column] if id_column else []) + columns
        seen = set(itertools.chain.from_iterable(r[4] for r in head if r[4] is not None))
        for column in wanted:
            if column in seen or not head:
                continue
            if all(r[4] is None for r in head):
                raise InputError(
                    f"{path}: SD property {column!r} not found: none of the first "
                    f"{len(head)} records parses"
                )
            raise _missing_column_error(path, "SD property", column, sorted(seen))
        rows = (
            (ident, smiles, error, extras)
            for ident, smiles, error, extras, _ in itertools.chain(head, records)
        )
        yield from _chunked(rows, columns, chunk_size)
