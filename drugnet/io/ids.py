"""Compound ids: blank-id placeholders, uniqueness at standardize, ``merged_ids`` encoding, SDF
titles.

Ids are text (never numbers or missing values: ``NA`` is an id). Rules:

- a blank id in a file that has ids (an id column, SDF names, ``.smi`` names) becomes
  ``#<row>`` (``placeholder``); without any id source every id is the plain row number;
- an accepted row's id may repeat only within one structure (same InChIKey, merged); an id used
  by another structure is rejected as ``duplicate_id:<first row>``, and an id of the placeholder
  form ``#<digits>`` on another row as ``reserved_id`` (``IdRegistry``), so no two standardized
  rows share an id and no placeholder can clash with a real id;
- ``merged_ids`` is a JSON list of strings (``encode_merged_ids``), unambiguous for any id.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from drugnet.io.rejects import DUPLICATE_ID, RESERVED_ID

_PLACEHOLDER = re.compile(r"#[0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SQL_BATCH = 500  # host parameters per SELECT (SQLite allows 999 in old builds)


def placeholder(row: int) -> str:
    """The id given to row ``row`` (1-based) when its id is blank."""
    return f"#{row}"


def encode_merged_ids(ids: Sequence[str]) -> str:
    """``merged_ids`` cell: a JSON list, so ids holding ``;``, quotes or line breaks stay whole."""
    return json.dumps(list(ids), ensure_ascii=False, separators=(",", ":"))


def decode_merged_ids(text: str) -> list[str]:
    """Inverse of :func:`encode_merged_ids`."""
    ids = json.loads(text)
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError(f"merged_ids is not a JSON list of strings: {text[:80]!r}")
    return ids


def sdf_title(ident: str) -> str:
    """``ident`` as one SDF title line: control characters and line breaks become one space.

    A title holding a line break (``\\n$$$$``) would otherwise end the record early and inject one.
    """
    return _CONTROL.sub(" ", ident).strip()


class IdRegistry:
    """Ids of accepted rows seen so far, on disk (SQLite), so memory does not grow with the rows."""

    def __init__(self, folder: Path) -> None:
        self._db = sqlite3.connect(folder / "ids.sqlite")
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "temp_store=FILE",
            "cache_size=-8000",
        ):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute(
            "CREATE TABLE ids (id TEXT PRIMARY KEY, key TEXT NOT NULL, row INTEGER NOT NULL) "
            "WITHOUT ROWID"
        )

    def _known(self, ids: list[str]) -> dict[str, tuple[str, int]]:
        known: dict[str, tuple[str, int]] = {}
        for i in range(0, len(ids), _SQL_BATCH):
            part = ids[i : i + _SQL_BATCH]
            sql = f"SELECT id, key, row FROM ids WHERE id IN ({','.join('?' * len(part))})"
            known.update((ident, (key, row)) for ident, key, row in self._db.execute(sql, part))
        return known

    def check(self, accepted: list[tuple]) -> tuple[list[tuple], list[tuple]]:
        """Split one chunk's accepted rows ``(row, id, input_smiles, smiles, inchikey, ...)``, in
        input order, into kept rows and rejects ``(row, id, input_smiles, reason)``."""
        known = self._known(list({r[1] for r in accepted}))
        new: dict[str, tuple[str, int]] = {}
        kept, rejected = [], []
        for record in accepted:
            row, ident, input_smiles, key = record[0], record[1], record[2], record[4]
            if _PLACEHOLDER.fullmatch(ident) and ident != placeholder(row):
                rejected.append(
                    (
                        row,
                        ident,
                        input_smiles,
                        f"{RESERVED_ID}: ids of the form '#<number>' name blank-id rows",
                    )
                )
                continue
            first = known.get(ident) or new.get(ident)
            if first is not None and first[0] != key:
                rejected.append(
                    (
                        row,
                        ident,
                        input_smiles,
                        f"{DUPLICATE_ID}:row {first[1]} (another structure has this id)",
                    )
                )
                continue
            if first is None:
                new[ident] = (key, row)
            kept.append(record)
        self._db.executemany(
            "INSERT INTO ids VALUES (?, ?, ?)", [(i, k, r) for i, (k, r) in new.items()]
        )
        return kept, rejected

    def close(self) -> None:
        self._db.close()
