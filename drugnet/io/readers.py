"""Streaming intake of molecule tables (csv, tsv, smi, sdf; optionally gzipped) as row chunks.

Every input record yields exactly one row. Each chunk is a DataFrame with columns

- ``row``: 1-based input data row number, contiguous over the whole file (blank lines and
  header are not rows; an SDF record is one row);
- ``id``: the ``id_column`` value as a string (SDF: the name line, or the property named by
  ``id_column``; a broken block keeps its name line); blank or no id column -> the row number;
- ``input_smiles``: the SMILES as written (SDF: ``MolToSmiles`` of the parsed block, "" when the
  block does not parse);
- ``read_error``: "" or a reject reason found while reading (``broken_sdf_block``);
- the requested extra columns (targets, label columns), raw strings ("" when absent).

CSV/TSV are read with ``dtype=str, keep_default_na=False`` (nothing coerced), a UTF-8 BOM is
ignored, quoted fields may contain newlines, blank lines are skipped. ``.smi`` is
whitespace-separated ``SMILES [name]`` without a header. SDF is split into records at ``$$$$``
(the last record may lack it; whitespace between records is not a record) and each record is
parsed by ``ForwardSDMolSupplier(sanitize=False)``, so a broken block is a row with
``read_error="broken_sdf_block"`` instead of vanishing or swallowing its neighbours.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd
from rdkit import Chem, rdBase

FORMATS = ("csv", "tsv", "smi", "sdf")
BASE_COLUMNS = ("row", "id", "input_smiles", "read_error")
BROKEN_SDF_BLOCK = "broken_sdf_block"


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


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: input file not found")
    if not path.is_file():
        raise InputError(f"{path}: not a file")


def read_chunks(
    path: str | os.PathLike,
    *,
    smiles_column: str = "smiles",
    id_column: str | None = None,
    columns: Sequence[str] = (),
    chunk_size: int = 2000,
    fmt: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield the file as DataFrames of at most ``chunk_size`` rows (see the module docstring).

    ``columns`` are extra columns to carry as raw strings (targets, label columns). Raises
    ``InputError`` for a missing file, a file without data rows, or a missing column (the
    message names the file, the column and the columns found).
    """
    path = Path(path)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    _check_file(path)
    kind = detect_format(path, fmt)
    columns = list(dict.fromkeys(columns))
    if kind in ("csv", "tsv"):
        chunks = _read_delimited(path, "," if kind == "csv" else "\t", smiles_column, id_column, columns, chunk_size)
    elif kind == "smi":
        if columns:
            raise InputError(f"{path}: .smi files carry only 'SMILES [name]'; cannot read columns {columns}")
        chunks = _read_smi(path, chunk_size)
    else:
        chunks = _read_sdf(path, id_column, columns, chunk_size)
    n_rows = 0
    try:
        for chunk in chunks:
            n_rows += len(chunk)
            yield chunk
    except (OSError, EOFError, UnicodeDecodeError) as exc:  # corrupt gzip, wrong encoding
        raise InputError(f"{path}: cannot read after data row {n_rows}: {exc}") from None
    if n_rows == 0:
        raise InputError(f"{path}: empty input (no data rows)")


def _frame(rows: list[int], ids: list[str], smiles: list[str], errors: list[str],
           extras: dict[str, list[str]]) -> pd.DataFrame:
    data: dict[str, object] = {
        "row": pd.Series(rows, dtype="int64"),
        "id": pd.Series(ids, dtype=object),
        "input_smiles": pd.Series(smiles, dtype=object),
        "read_error": pd.Series(errors, dtype=object),
    }
    for name, values in extras.items():
        data[name] = pd.Series(values, dtype=object)
    return pd.DataFrame(data)


def _missing_column_error(path: Path, what: str, column: str, found: Iterable[str]) -> InputError:
    found = list(found)
    return InputError(f"{path}: {what} column {column!r} not found; columns found: {found}")


def _read_delimited(path: Path, sep: str, smiles_column: str, id_column: str | None,
                    columns: list[str], chunk_size: int) -> Iterator[pd.DataFrame]:
    options = dict(sep=sep, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig",
                   skip_blank_lines=True, compression="gzip" if _is_gzip(path) else None)
    try:
        header = pd.read_csv(path, nrows=0, **options)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: empty input (no header and no data rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot parse as {'CSV' if sep == ',' else 'TSV'}: {exc}") from None
    found = [str(c) for c in header.columns]
    if smiles_column not in found:
        raise _missing_column_error(path, "smiles", smiles_column, found)
    if id_column is not None and id_column not in found:
        raise _missing_column_error(path, "id", id_column, found)
    for column in columns:
        if column not in found:
            raise _missing_column_error(path, "label", column, found)
    wanted = list(dict.fromkeys([smiles_column, *([id_column] if id_column else []), *columns]))
    start = 1
    try:
        reader = pd.read_csv(path, usecols=wanted, chunksize=chunk_size, **options)
        for frame in reader:
            n = len(frame)
            rows = list(range(start, start + n))
            start += n
            numbers = [str(r) for r in rows]
            if id_column is not None:
                ids = [v.strip() or r for v, r in zip(frame[id_column].tolist(), numbers)]
            else:
                ids = numbers
            smiles = [s.strip() for s in frame[smiles_column].tolist()]
            extras = {c: frame[c].tolist() for c in columns}
            yield _frame(rows, ids, smiles, [""] * n, extras)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        kind = "CSV" if sep == "," else "TSV"
        raise InputError(f"{path}: cannot parse as {kind} near data row {start}: {exc}") from None


def _read_smi(path: Path, chunk_size: int) -> Iterator[pd.DataFrame]:
    rows: list[int] = []
    ids: list[str] = []
    smiles: list[str] = []
    n = 0
    with _open_binary(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline=None) as fh:
        for line in fh:
            fields = line.strip().split(None, 1)
            if not fields:
                continue
            n += 1
            rows.append(n)
            smiles.append(fields[0])
            ids.append(fields[1].strip() if len(fields) > 1 else str(n))
            if len(rows) == chunk_size:
                yield _frame(rows, ids, smiles, [""] * len(rows), {})
                rows, ids, smiles = [], [], []
    if rows:
        yield _frame(rows, ids, smiles, [""] * len(rows), {})


def _sdf_blocks(fh: io.BufferedIOBase) -> Iterator[bytes]:
    """Raw SDF records (text up to and including ``$$$$``; the last may lack it).

    Whitespace-only stretches (e.g. trailing blank lines) are not records.
    """
    lines: list[bytes] = []
    for line in fh:
        lines.append(line)
        if line.rstrip() == b"$$$$":
            block = b"".join(lines)
            lines = []
            if block[:-len(line)].strip():
                yield block
    block = b"".join(lines)
    if block.strip():
        yield block


def _parse_sdf_block(block: bytes) -> Chem.Mol | None:
    supplier = Chem.ForwardSDMolSupplier(io.BytesIO(block), sanitize=False, removeHs=False)
    return next(iter(supplier), None)


def _sdf_record(block: bytes, number: int, id_column: str | None,
                columns: list[str]) -> tuple[str, str, str, list[str], list[str]]:
    """(id, input_smiles, read_error, extra values, property names) of one SDF record."""
    mol = _parse_sdf_block(block)
    if mol is None:
        name = block.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        ident = name if id_column is None and name else str(number)
        return ident, "", BROKEN_SDF_BLOCK, [""] * len(columns), []
    if id_column is None:
        ident = mol.GetProp("_Name").strip() if mol.HasProp("_Name") else ""
    else:
        ident = mol.GetProp(id_column).strip() if mol.HasProp(id_column) else ""
    extras = [mol.GetProp(c) if mol.HasProp(c) else "" for c in columns]
    # Sanitization failures (valence, aromaticity) are left to standardization, which
    # re-parses input_smiles and names the reason; an unsanitized mol still writes SMILES.
    Chem.SanitizeMol(mol, catchErrors=True)
    try:
        smiles = Chem.MolToSmiles(mol)
        error = ""
    except Exception:  # noqa: BLE001 - RDKit raises several types for broken structures
        smiles, error = "", BROKEN_SDF_BLOCK
    return ident or str(number), smiles, error, extras, list(mol.GetPropNames())


def _read_sdf(path: Path, id_column: str | None, columns: list[str],
              chunk_size: int) -> Iterator[pd.DataFrame]:
    rows: list[int] = []
    ids: list[str] = []
    smiles: list[str] = []
    errors: list[str] = []
    extras: dict[str, list[str]] = {c: [] for c in columns}
    seen_props: set[str] = set()
    checked = False
    n = 0

    def check_columns() -> None:
        wanted = ([id_column] if id_column else []) + columns
        for column in wanted:
            if column not in seen_props:
                raise _missing_column_error(path, "SD property", column, sorted(seen_props))

    with _open_binary(path) as fh, rdBase.BlockLogs():
        for block in _sdf_blocks(fh):
            n += 1
            ident, smi, error, values, props = _sdf_record(block, n, id_column, columns)
            seen_props.update(props)
            rows.append(n)
            ids.append(ident)
            smiles.append(smi)
            errors.append(error)
            for column, value in zip(columns, values):
                extras[column].append(value)
            if len(rows) == chunk_size:
                if not checked:
                    check_columns()
                    checked = True
                yield _frame(rows, ids, smiles, errors, extras)
                rows, ids, smiles, errors = [], [], [], []
                extras = {c: [] for c in columns}
    if rows:
        if not checked:
            check_columns()
        yield _frame(rows, ids, smiles, errors, extras)
