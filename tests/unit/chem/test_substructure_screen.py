"""The pattern-fingerprint screen gives exactly the matches of searching every query."""

from __future__ import annotations

import pandas as pd
import pytest
from rdkit import Chem
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

from drugnet.chem.substructure_screen import (
    CatalogScreen,
    PatternScreen,
    entry_query,
    pattern_bits,
)
from helpers.paths import DATA


@pytest.fixture(scope="module")
def drugs() -> list[Chem.Mol]:
    """The first 400 DrugCentral structures (about half carry a PAINS or Brenk alert)."""
    frame = pd.read_csv(DATA / "quick" / "drugcentral_head400.tsv.gz", sep="\t")
    mols = [Chem.MolFromSmiles(s) for s in frame["SMILES"] if isinstance(s, str)]
    return [m for m in mols if m is not None]


@pytest.fixture(scope="module")
def catalog() -> FilterCatalog:
    params = FilterCatalogParams()
    for name in ("PAINS", "BRENK", "NIH"):
        params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, name))
    return FilterCatalog(params)


def test_catalog_screen_equals_get_matches(drugs, catalog):
    screen = CatalogScreen(catalog)
    hits = 0
    for mol in drugs:
        expected = [e.GetDescription() for e in catalog.GetMatches(mol)]
        got = [e.GetDescription() for e in screen.matches(mol)]
        assert sorted(got) == sorted(expected), Chem.MolToSmiles(mol)
        hits += bool(expected)
    assert hits > 100  # the comparison covers many matching molecules, not only misses


def test_every_catalog_entry_is_screened(catalog):
    """The entries' serialized queries are read (a format change would silently cost speed)."""
    queries = [entry_query(catalog.GetEntryWithIdx(i)) for i in range(catalog.GetNumEntries())]
    assert all(q is not None and q.GetNumAtoms() > 0 for q in queries)


def test_screen_skips_most_queries(drugs, catalog):
    screen = CatalogScreen(catalog)
    passed = [len(screen.screen.candidates(pattern_bits(m))) for m in drugs[:50]]
    assert sum(passed) < 0.5 * len(screen.entries) * len(passed)


def test_unreadable_query_is_never_screened_out():
    benzene = Chem.MolFromSmiles("c1ccccc1")
    screen = PatternScreen([None, Chem.MolFromSmarts("C#N")])
    assert screen.candidates(pattern_bits(benzene)).tolist() == [0]
