import pandas as pd
from rdkit import Chem

from drugnet.screening.select import select_top, write_sdf


def ranked_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": [1, 2, 3, 4, 5, 6, 7],
            "id": ["a", "b", "c", "d", "e", "f", "g"],
            "smiles": ["CCO", "CCCO", "CCCCO", "CCCCCO", "O=C1C=CC(=O)C=C1", "c1ccccc1O", "CCN"],
            "score": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3],
            "bace.Class": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3],
            "in_domain": [True, True, True, True, True, False, True],
            "alerts": ["", "", "", "", "Brenk:x;PAINS_A:y", "", ""],
            "cluster": [1, 1, 1, 1, 2, 3, None],
        }
    )


def test_max_per_cluster_and_filters():
    ranked = ranked_table()
    assert select_top(ranked, 10)["id"].tolist() == [
        "a",
        "b",
        "c",
        "e",
        "f",
    ]  # d: 4th of cluster 1; g: not annotated
    assert select_top(ranked, 10, max_alerts=0, in_domain_only=True)["id"].tolist() == [
        "a",
        "b",
        "c",
    ]
    assert select_top(ranked, 10, max_alerts=1, max_per_cluster=None)["id"].tolist() == [
        "a",
        "b",
        "c",
        "d",
        "f",
    ]
    assert select_top(ranked, 2)["id"].tolist() == ["a", "b"]


def test_sdf_roundtrip_keeps_every_column_as_tag(tmp_path):
    top = select_top(ranked_table(), 10)
    path = tmp_path / "top.sdf"
    assert write_sdf(top, path) == len(top)
    mols = [m for m in Chem.SDMolSupplier(str(path))]
    assert len(mols) == len(top)
    for mol, row in zip(mols, top.to_dict("records"), strict=False):
        assert mol.GetProp("_Name") == row["id"]
        assert set(top.columns) <= set(mol.GetPropNames())
        assert mol.GetProp("bace.Class") == str(row["bace.Class"])
        assert mol.GetProp("alerts") == row["alerts"]
        assert mol.GetConformer().Is3D() is False
        assert Chem.MolToSmiles(mol) == Chem.MolToSmiles(Chem.MolFromSmiles(row["smiles"]))


def test_ids_with_line_breaks_cannot_inject_sdf_records(tmp_path):
    """An id holding "\\n$$$$\\n" (or a bare CR, NUL, U+2028) is written as one title line."""
    top = ranked_table().head(4)
    top["id"] = ["evil\n$$$$\ninjected", "cr\rlf\r\n", "nul\x00tab\tend", "sep\u2028x"]
    top["alerts"] = ["a\n\n$$$$", "", "", ""]
    path = tmp_path / "top.sdf"
    assert write_sdf(top, path) == 4
    mols = list(Chem.SDMolSupplier(str(path)))
    assert len(mols) == 4 and all(m is not None for m in mols)
    assert path.read_text().split("\n").count("$$$$") == 4
    assert [m.GetProp("_Name") for m in mols] == [
        "evil $$$$ injected",
        "cr lf",
        "nul tab end",
        "sep x",
    ]
    assert mols[0].GetProp("alerts") == "a $$$$"
