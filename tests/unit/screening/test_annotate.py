import numpy as np
import pandas as pd
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator
from rdkit.ML.Cluster import Butina

from drugnet.features.tanimoto import ecfp4_bits
from drugnet.screening.annotate import (
    ANNOTATION_COLUMNS,
    annotate_frame,
    butina_clusters,
    count_alerts,
    properties_frame,
    structural_alerts,
)

RHODANINE_CATECHOL = "O=C1NC(=S)SC1=Cc1ccc(O)c(O)c1"
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def test_pains_compound_flagged_and_kept():
    frame = pd.DataFrame({"id": ["pains", "aspirin"], "smiles": [RHODANINE_CATECHOL, ASPIRIN]})
    annotated = annotate_frame(frame)
    assert list(annotated.columns) == ANNOTATION_COLUMNS
    assert len(annotated) == 2  # flagged, never dropped
    alerts = annotated["alerts"].iloc[0].split(";")
    assert "PAINS_A:ene_rhod_A(235)" in alerts and "PAINS_B:catechol_A(92)" in alerts
    assert any(a.startswith("Brenk:") for a in alerts)
    assert alerts == sorted(alerts)
    assert count_alerts(annotated["alerts"]).tolist()[0] == len(alerts)


def test_alert_free_and_quinone():
    assert structural_alerts(Chem.MolFromSmiles("c1ccccc1CCN")) == []
    assert any(
        a.startswith("PAINS") or "quinone" in a.lower()
        for a in structural_alerts(Chem.MolFromSmiles("O=C1C=CC(=O)C=C1"))
    )
    assert count_alerts(pd.Series(["", "a;b", None])).tolist() == [0, 2, 0]


def test_properties_and_lipinski_violations():
    big = "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC(=O)O"  # MW > 500 and cLogP > 5
    props = properties_frame([Chem.MolFromSmiles(ASPIRIN), Chem.MolFromSmiles(big), None])
    assert props.loc[0, "mw"] == pytest.approx(180.159, abs=1e-2)
    assert props.loc[0, "hbd"] == 1 and props.loc[0, "lipinski_violations"] == 0
    assert 0 < props.loc[0, "qed"] < 1 and props.loc[0, "tpsa"] == pytest.approx(63.6, abs=0.1)
    assert props.loc[1, "lipinski_violations"] == 2
    assert np.isnan(props.loc[2, "mw"]) and np.isnan(props.loc[2, "lipinski_violations"])


def rdkit_butina(smiles, distance):
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    fps = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in smiles]
    dists = []
    for i in range(1, len(fps)):
        dists.extend(1 - s for s in DataStructs.BulkTanimotoSimilarity(fps[i], fps[:i]))
    return Butina.ClusterData(dists, len(fps), distance, isDistData=True)


@pytest.mark.parametrize("distance", [0.4, 0.6])
def test_butina_same_partition_as_rdkit(bace_head, esol_head, distance):
    smiles = bace_head["smiles"].tolist()[:60] + esol_head["smiles"].tolist()[:40]
    ours = butina_clusters(ecfp4_bits(smiles), distance)
    ref = rdkit_butina(smiles, distance)
    ref_partition = {frozenset(c) for c in ref}
    our_partition = {frozenset(np.flatnonzero(ours == k).tolist()) for k in np.unique(ours)}
    assert our_partition == ref_partition
    assert len(ref) < len(smiles)  # the real BACE series does cluster


def test_cluster_ids_numbered_by_best_member_and_deterministic(bace_head):
    fps = ecfp4_bits(bace_head["smiles"].tolist()[:80])
    ids = butina_clusters(fps)
    assert ids[0] == 1
    first_seen = pd.unique(ids)
    assert first_seen.tolist() == list(range(1, len(first_seen) + 1))
    assert np.array_equal(ids, butina_clusters(fps))


def test_parallel_paths_match_serial(bace_head, esol_head):
    from drugnet.screening.annotate import alerts_column, properties_from_smiles

    smiles = (
        esol_head["smiles"].tolist()[:30] + [RHODANINE_CATECHOL] + bace_head["smiles"].tolist()[:10]
    )
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    assert any(alerts_column(mols))
    pd.testing.assert_frame_equal(
        properties_from_smiles(smiles, threads=2, chunk=10), properties_frame(mols)
    )
