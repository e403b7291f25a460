"""`run_atlas` and `write_atlas` on planted embeddings (no model needed)."""

import json

import numpy as np
import pandas as pd

from drugnet.concepts import all_concepts
from drugnet.probing import probes
from drugnet.probing.atlas import AtlasSettings, run_atlas, write_atlas


def test_atlas_on_planted_layers(esol_mols, tmp_path, rng):
    mols = esol_mols[:200]
    settings = AtlasSettings(
        atoms_per_molecule=3, min_positives=15, n_boot=100, n_permutations=2000
    )
    concepts = all_concepts(mols, min_positives=15, atoms_per_molecule=3, seed=0)
    is_test_mol = probes.split_molecules(probes.scaffold_groups(mols), seed=0)
    embeddings = {"trained": {}, "random_init": {}}
    for level, matrix in concepts.matrices.items():
        n = len(matrix.item_mol)
        layer0 = rng.normal(size=(n, 8))
        # trained: every concept readable from layer 2 only; random: noise everywhere
        layer2 = np.concatenate([matrix.values.astype(float), rng.normal(size=(n, 4))], axis=1)
        embeddings["trained"][level] = [layer0, rng.normal(size=(n, 8)), layer2]
        embeddings["random_init"][level] = [
            layer0,
            rng.normal(size=(n, 8)),
            rng.normal(size=(n, layer2.shape[1])),
        ]
    result = run_atlas(embeddings, concepts, is_test_mol, settings)
    table = result.probes
    assert list(table.columns) == probes.PROBE_COLUMNS
    trained2 = table[(table.network == "trained") & (table.layer == 2)].auc.dropna()
    assert (trained2 > 0.95).mean() > 0.95
    control = table[table.network == "control_task"].auc.dropna()
    assert abs(control.mean() - 0.5) < 0.05
    peaks = pd.DataFrame(result.hierarchy["peaks_per_concept"])
    assert (peaks.peak_layer == 2).mean() > 0.9
    # every concept peaks in the same layer: no ordering, and the verdict says so
    for test in result.hierarchy["tests"].values():
        assert "HOLDS" not in test["verdict"].replace("DOES NOT HOLD", "") or np.isnan(
            test["p_value"]
        )
    write_atlas(result, tmp_path)
    saved = json.loads((tmp_path / "hierarchy.json").read_text())
    assert saved["settings"]["atoms_per_molecule"] == 3
    assert (tmp_path / "selectivity_heatmap.svg").read_text().startswith("<?xml")
    assert len(pd.read_csv(tmp_path / "neurons.csv")) > 0
    # the best unit per family and hidden layer comes out of the same AUCs as neurons.csv
    for top in result.top_units.values():
        assert list(top.columns) == ["family", "layer", "unit", "concept", "auc"]
        assert (
            sorted(top.layer.unique()) == [1, 2] and not top.duplicated(["family", "layer"]).any()
        )
        assert (top[top.layer == 2].auc > 0.95).all()  # layer 2 holds the labels themselves
    # run_atlas alone has no model: an empty examples file keeps the output set fixed
    assert json.loads((tmp_path / "neuron_examples.json").read_text()) == {
        "format_version": 1,
        "units": [],
    }
