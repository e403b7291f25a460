"""DeepTox-style descriptor set: fr_* fragment counts and FilterCatalog structural-alert counts."""

from __future__ import annotations

import numpy as np
from rdkit import Chem
from rdkit.Chem import Descriptors
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

from drugnet.features.descriptors import (
    ALERT_CATALOGS,
    compute_descriptors,
    descriptor_names,
)


def test_deeptox_set_extends_the_default_set_with_fragments_and_alerts() -> None:
    names = descriptor_names("deeptox")
    assert names[: len(descriptor_names("default"))] == descriptor_names("default")
    assert sum(n.startswith("fr_") for n in names) == sum(
        n.startswith("fr_") for n, _ in Descriptors._descList
    )
    assert [n for n in names if n.startswith("Alerts_")] == [f"Alerts_{c}" for c in ALERT_CATALOGS]


def test_alert_counts_equal_filtercatalog_matches_and_flag_a_nitro_azo_dye() -> None:
    names = descriptor_names("deeptox")
    dye = Chem.MolFromSmiles(
        "O=[N+]([O-])c1ccc(N=Nc2ccccc2)cc1"
    )  # 4-nitroazobenzene: azo and nitro toxicophores
    plain = Chem.MolFromSmiles("CCCCCC(=O)O")
    values = dict(zip(names, compute_descriptors(dye, "deeptox"), strict=False))
    for catalog in ALERT_CATALOGS:
        params = FilterCatalogParams()
        params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, catalog))
        assert values[f"Alerts_{catalog}"] == len(FilterCatalog(params).GetMatches(dye))
    assert values["Alerts_BRENK"] >= 2 and values["fr_nitro"] == 1 and values["fr_azo"] == 1
    plain_values = dict(zip(names, compute_descriptors(plain, "deeptox"), strict=False))
    assert plain_values["Alerts_NIH"] == 0 and plain_values["fr_COO"] == 1
    assert np.isfinite(compute_descriptors(dye, "deeptox")).all()
