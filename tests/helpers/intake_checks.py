"""Invariants of intake (``read_chunks`` + ``standardize_file``), shared by the fuzz tests.

``check_intake(path, **options)`` reads the file, standardizes it (``n_jobs=1``) and asserts:

- either both raise a *documented* file-level ``InputError`` (``ALLOWED_INPUT_ERRORS``), or
  neither raises anything;
- rows are numbered 1..n without gaps; ``summary["rows_read"] == n``;
- ``sum(n_merged) + len(rejects) == n``; each row is rejected at most once; every reject has
  a non-empty reason from the documented vocabulary; a row with a ``read_error`` is rejected
  with exactly that reason;
- the ids (and input SMILES) of the rejects are those of their rows, and the ids of the rows
  not rejected are exactly the ids merged into the standardized table;
- every string is valid Unicode (encodes as UTF-8).

Plain ``assert`` only (no pytest), so the atheris harness can use it too.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from drugnet.chem.curation import standardize_file
from drugnet.io.ids import decode_merged_ids
from drugnet.io.readers import InputError, read_chunks
from drugnet.io.rejects import REASONS

ALLOWED_INPUT_ERRORS = re.compile(
    r"empty input|column '.*' not found|SD property '.*' not found|cannot parse the header"
    r"|UTF-16|UTF-32|cannot read after data row",
    re.DOTALL,
)

# Real SMILES (Tox21, DrugCentral, fixtures): salts, charges, stereo, isotopes, metals, broken ones.
REAL_SMILES = [
    "CC(=O)[O-].[Na+]",
    "CC(=O)O",
    "CCN.Cl",
    "C1CC",
    "C(C)(C)(C)(C)C",
    "c1ccccc1O",
    "CCO",
    "[Na+].[Cl-]",
    "c1ccncc1",
    "CCCC",
    "c1cccc1",
    "OC[C@H](N)C(=O)O",
    "O=C(O)C(F)(F)F.CCN",
    "CC(O)=O.[H][C@@]12CCC3=CC(=CC=C3[C@@]1(C)CCC[C@@]2(C)CN)C(C)C",
    "ClC1=CC=C(NC(=N)NC(=N)NCCCCCCNC(=N)NC(=N)NC2=CC=C(Cl)C=C2)C=C1",
    "CCCCN1CCCC[C@H]1C(=O)NC1=C(C)C=CC=C1C",
    "COC(=O)C1=C(C)NC(C)=C([C@H]1C1=CC(=CC=C1)[N+]([O-])=O)C(=O)OCCN(C)CC1=CC=CC=C1",
    "C[C@@H](CCC1=CC=C(O)C=C1)NCCC1=CC=C(O)C(O)=C1",
    "[NH3+]CC(=O)[O-]",
    "C[N+](C)(C)CC(=O)[O-]",
    "[2H]C([2H])([2H])O",
    "CC(=O)O[Na]",
    "O.O.OC(=O)c1ccccc1O",
    "[O-][n+]1ccccc1",
    "C[S+](C)[O-]",
    "[Fe+2].[Cl-].[Cl-]",
    "CN(C)CCCN1c2ccccc2CCc2ccccc21.Cl",
    "[C-]#[O+]",
    "OCC3OC(OCC2OC(OC(C#N)c1ccccc1)C(O)C(O)C2O)C(O)C(O)C3O",
    "Cc1occc1C(=O)Nc2ccccc2",
    "O1CC[C@@H](NC(=O)[C@@H](Cc2cc3cc(ccc3nc2N)-c2ccccc2C)C)CC1(C)C",
    "[Pt](Cl)(Cl)(N)N",
    "C1=CC=CC=C1",
    "c1ccc2c(c1)[nH]c1ccccc12",
    "CC(C)(C)c1ccc(O)cc1",
    "N#N",
    "[H][H]",
    "*C",
    "C%10CC%10",
]

# Huge or pathological records: each must be rejected quickly (too_many_atoms or a parse error).
HUGE_SMILES = [
    "C" * 5000,  # 5,000-atom polyethylene
    "C(C)" * 2500,  # 5,000-atom polypropylene (2,500 stereocentre candidates)
    "OCC" * 1700,  # PEG
    "c1ccccc1" * 700,  # polyphenylene
    "[Na+]." * 1500 + "CC(=O)[O-]",  # 1,500 counter-ions
    "[H]" * 3000,  # 3,000 fragments without heavy atoms
    "C" * 950,  # under the record cap, over max_heavy_atoms
    "CC(" * 400 + "C" + ")" * 400,  # deep branching
]


def _strings_ok(frame: pd.DataFrame, columns=None) -> None:
    """Values of ``columns`` are str (all text columns when None: str values must encode)."""
    for column in frame.columns if columns is None else columns:
        if columns is None and not (
            frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column])
        ):
            continue
        for value in frame[column]:
            if columns is not None:
                assert isinstance(value, str), (column, value)
            if isinstance(value, str):
                value.encode("utf-8")  # raises on lone surrogates


def _pieces(ids, merged: bool = False) -> Counter:
    return Counter(
        piece for ident in ids for piece in (decode_merged_ids(ident) if merged else [ident])
    )


def check_intake(
    path: str | Path,
    *,
    smiles_column: str = "smiles",
    id_column: str | None = None,
    targets: tuple[str, ...] = (),
    label_columns: tuple[str, ...] = (),
    task: str = "classification",
    chunk_size: int = 3,
    fmt: str | None = None,
) -> pd.DataFrame | None:
    """Assert the intake invariants on ``path``; the rows read, or None for a file-level
    InputError."""
    options = {
        "smiles_column": smiles_column,
        "id_column": id_column,
        "fmt": fmt,
        "chunk_size": chunk_size,
    }
    try:
        rows = pd.concat(
            list(read_chunks(path, columns=[*targets, *label_columns], **options)),
            ignore_index=True,
        )
    except InputError as exc:
        assert ALLOWED_INPUT_ERRORS.search(str(exc)), f"undocumented InputError: {exc}"
        try:
            standardize_file(
                path, targets=targets, label_columns=label_columns, task=task, n_jobs=1, **options
            )
        except InputError as again:
            assert ALLOWED_INPUT_ERRORS.search(str(again)), f"undocumented InputError: {again}"
        else:
            raise AssertionError(f"read_chunks raised {exc!r} but standardize_file did not")
        return None
    out = standardize_file(
        path, targets=targets, label_columns=label_columns, task=task, n_jobs=1, **options
    )
    n = len(rows)
    assert rows["row"].tolist() == list(range(1, n + 1))
    _strings_ok(rows, [c for c in rows.columns if c != "row"])
    std, rejects, summary = out.standardized, out.rejects, out.summary
    _strings_ok(rejects, ["id", "input_smiles", "reason"])
    _strings_ok(std)
    assert summary["rows_read"] == n
    assert int(std["n_merged"].sum()) + len(rejects) == n
    assert summary["rejected"] == len(rejects) == sum(summary["rejects_by_reason"].values())
    assert rejects["row"].is_unique and rejects["row"].between(1, n).all()
    assert std["inchikey"].is_unique and (std["n_merged"] >= 1).all()
    for reason in rejects["reason"]:
        assert reason and reason.split(":", 1)[0] in REASONS, reason
    by_row = rows.set_index("row")
    for row, ident, smiles, reason in rejects[["row", "id", "input_smiles", "reason"]].itertuples(
        index=False
    ):
        assert by_row.at[row, "id"] == ident
        assert by_row.at[row, "input_smiles"] == smiles
        if by_row.at[row, "read_error"]:
            assert reason == by_row.at[row, "read_error"]
    unread = set(rows["row"]) - set(rejects["row"])
    assert not rows.loc[rows["row"].isin(unread), "read_error"].astype(bool).any()
    accepted_ids = rows.loc[rows["row"].isin(unread), "id"]
    assert _pieces(accepted_ids) == _pieces(std["merged_ids"], merged=True)
    assert std["id"].is_unique
    return rows


def write(path: Path, data: bytes, compress: bool) -> Path:
    """Write ``data`` to ``path`` (gzip-compressed when ``compress``; ``.gz`` is appended)."""
    if compress:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path
