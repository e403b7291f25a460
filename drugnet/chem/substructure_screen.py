"""Many substructure queries against one molecule, with RDKit pattern-fingerprint screening.

A query can only match a molecule whose pattern fingerprint (``Chem.PatternFingerprint``) sets
every bit the query's own pattern fingerprint sets; that is the screen RDKit's
``SubstructLibrary`` applies. :class:`PatternScreen` keeps the query fingerprints as one packed
bit matrix, so a molecule is fingerprinted once and only the queries that pass the screen are
searched. Results are exactly those of searching every query (tests compare both on real
molecules); what it saves is measured in docs/benchmarks.md ("Structural alerts").

:class:`CatalogScreen` does the same for an RDKit ``FilterCatalog``: :meth:`CatalogScreen.matches`
returns the entries ``FilterCatalog.GetMatches`` returns, in catalog order. The query of each
entry is read from the entry's own serialization (a ``SmartsMatcher``: the query molecule's
pickle and its minimum count); an entry whose serialization does not have that form is never
screened out, so the result stays exact whatever the catalog holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from rdkit import Chem
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogEntry

#: Pattern-fingerprint size of the screen (RDKit's default).
PATTERN_BITS = 2048
_WORDS = PATTERN_BITS // 64
_COUNT = re.compile(rb" (\d+) (\d+)")
_PICKLE_MAGIC = b"\xef\xbe\xad\xde"  # first bytes of an RDKit molecule pickle


def pattern_bits(mol: Chem.Mol) -> np.ndarray:
    """RDKit pattern fingerprint of ``mol`` packed into ``PATTERN_BITS // 64`` uint64 words."""
    text = Chem.PatternFingerprint(mol, fpSize=PATTERN_BITS).ToBitString().encode()
    return np.packbits(np.frombuffer(text, dtype=np.uint8) == ord("1")).view(np.uint64)


class PatternScreen:
    """Fingerprint screen for a fixed list of queries; ``None`` queries always pass."""

    def __init__(self, queries: Sequence[Chem.Mol | None]) -> None:
        self.required = np.zeros((len(queries), _WORDS), dtype=np.uint64)
        for k, query in enumerate(queries):
            if query is not None:
                self.required[k] = pattern_bits(query)

    def candidates(self, bits: np.ndarray) -> np.ndarray:
        """Indices of the queries that may match a molecule with packed fingerprint ``bits``."""
        return np.flatnonzero(~(self.required & ~bits).any(axis=1))


def entry_query(entry: FilterCatalogEntry) -> Chem.Mol | None:
    """The query molecule a match of ``entry`` requires, or None when its serialization is not a
    single ``SmartsMatcher`` with a minimum count of at least 1 (such entries are not screened)."""
    description = entry.GetDescription().encode()
    blob = entry.Serialize()
    key = b" %d " % len(description) + description + b" "
    start = blob.find(key)
    if start < 0:
        return None
    start += len(key)
    size_end = blob.find(b" ", start)
    if size_end < 0 or not blob[start:size_end].isdigit():
        return None
    size = int(blob[start:size_end])
    pickle = blob[size_end + 1 : size_end + 1 + size]
    counts = _COUNT.match(blob, size_end + 1 + size)
    if counts is None or int(counts.group(1)) < 1:
        return None  # not a minimum count after the pickle, or a count that accepts no match
    if blob.count(_PICKLE_MAGIC) != pickle.count(_PICKLE_MAGIC):
        return None  # a second matcher outside this one (not a single SmartsMatcher)
    try:
        query = Chem.Mol(pickle)
    except Exception:  # noqa: BLE001 - not a molecule pickle: leave the entry unscreened
        return None
    return query if query.GetNumAtoms() else None


class CatalogScreen:
    """A ``FilterCatalog`` with a pattern-fingerprint screen in front of its entries."""

    def __init__(self, catalog: FilterCatalog) -> None:
        self.entries = [catalog.GetEntryWithIdx(i) for i in range(catalog.GetNumEntries())]
        self.screen = PatternScreen([entry_query(e) for e in self.entries])

    def matches(self, mol: Chem.Mol, bits: np.ndarray | None = None) -> list[FilterCatalogEntry]:
        """The entries matching ``mol`` (as ``FilterCatalog.GetMatches``, in catalog order);
        ``bits``: its :func:`pattern_bits`, when the caller has them already."""
        candidates = self.screen.candidates(pattern_bits(mol) if bits is None else bits)
        return [self.entries[k] for k in candidates.tolist() if self.entries[k].HasFilterMatch(mol)]
