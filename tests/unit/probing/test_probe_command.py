"""End to end: a tiny trained gnn and snn on real molecules, probed through `drugnet probe`."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from drugnet.probing.probes import PROBE_COLUMNS
from helpers.paths import DATA

N_MOLS = 160


def _dataset_dir(tmp_path, esol_csv):
    from drugnet.features.build import featurize_file

    frame = pd.read_csv(esol_csv).head(N_MOLS)
    out = tmp_path / "esol"
    out.mkdir()
    std = pd.DataFrame(
        {
            "id": [f"m{i}" for i in range(len(frame))],
            "smiles": frame["smiles"],
            "log_solubility": frame["log_solubility"],
        }
    )
    std.to_csv(out / "standardized.csv", index=False)
    split = np.array(["train", "val", "test"])[
        np.arange(len(frame)) % 5 // 3 + (np.arange(len(frame)) % 5 == 4)
    ]
    pd.DataFrame({"id": std["id"], "split": split}).to_csv(out / "split.csv", index=False)
    featurize_file(out / "standardized.csv", out / "features")
    return out


def _train(dataset_dir, kind):
    from drugnet.features.dataset import load_dataset
    from drugnet.inference.checkpoint import save_model_dir
    from drugnet.train.fit_ensemble import train_ensemble

    data = load_dataset(dataset_dir, ["log_solubility"])
    overrides = {"hidden": 32, "depth": 3, "epochs": 2, "batch_size": 32}
    if kind == "snn":
        overrides["hidden"] = 64
    ensemble, history = train_ensemble(
        data, kind, "regression", overrides, n_members=2, seed=0, device="cpu", threads=1
    )
    return save_model_dir(ensemble, dataset_dir / "models" / kind, history)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gnn", "snn"])
def test_probe_command_writes_atlas(tmp_path, kind):
    from drugnet.cli import main

    torch.set_num_threads(1)
    dataset_dir = _dataset_dir(tmp_path, str(DATA / "esol_delaney.csv.gz"))
    model_dir = _train(dataset_dir, kind)
    out = tmp_path / "probes"
    rc = main(
        [
            "probe",
            "--dataset-dir",
            str(dataset_dir),
            "--model-dir",
            str(model_dir),
            "--output-dir",
            str(out),
            "--min-positives",
            "10",
            "--atoms-per-molecule",
            "3",
            "--n-boot",
            "100",
            "--threads",
            "1",
            "--extra-model",
            f"again={model_dir}",
        ]
    )
    assert rc == 0
    probes = pd.read_csv(out / "probes.csv")
    assert list(probes.columns) == PROBE_COLUMNS
    assert set(probes.network) == {"trained", "random_init", "control_task", "again"}
    assert set(probes.member) == {0, 1} and set(
        probes[probes.network == "control_task"].member
    ) == {0}
    # the extra network is member 0 of the same directory: the same probes as the trained member 0
    keys = ["concept", "level", "layer"]
    again = probes[probes.network == "again"].set_index(keys).auc.sort_index()
    first = (
        probes[(probes.network == "trained") & (probes.member == 0)]
        .set_index(keys)
        .auc.sort_index()
    )
    pd.testing.assert_series_equal(again, first)
    summary_members = json.loads((out / "hierarchy.json").read_text())["members"]
    assert set(summary_members) == {"0", "1"}
    family = pd.read_csv(out / "family_selectivity.csv")
    assert (family.n_members == 2).all() and (
        family.ci_low.dropna() <= family.mean_selectivity[family.ci_low.notna()]
    ).all()
    rf = pd.read_csv(out / "receptive_field.csv")
    assert (len(rf) > 0) == (kind == "gnn")
    assert pd.read_csv(out / "ablation.csv").empty  # regression: no validation ROC-AUC
    assert set(probes.level) == ({"atom", "molecule"} if kind == "gnn" else {"molecule"})
    assert set(probes.family) == {"functional_group", "interaction_center", "pharmacophore"}
    assert sorted(probes.layer.unique()) == [0, 1, 2, 3]
    # the input layer is shared by the trained and the random network
    layer0 = probes[probes.layer == 0].pivot_table(
        index=["concept", "level"], columns="network", values="auc"
    )
    np.testing.assert_allclose(layer0["trained"], layer0["random_init"])
    ok = probes.dropna(subset=["auc"])
    assert ((ok.ci_low <= ok.auc + 1e-9) & (ok.auc <= ok.ci_high + 1e-9)).all()
    summary = json.loads((out / "hierarchy.json").read_text())
    assert "verdict" in summary and summary["member"] == 0
    assert summary["settings"]["atoms_per_molecule"] == 3
    for test in summary["tests"].values():
        assert test["n_permutations"] == 10_000
    neurons = pd.read_csv(out / "neurons.csv")
    assert set(neurons.network) == {"trained", "random_init"} and (neurons.auc >= 0.5).all()
    for name in ("skipped_concepts.csv", "selectivity_heatmap.png", "selectivity_heatmap.svg"):
        assert (out / name).stat().st_size > 0
    _check_neuron_examples(
        json.loads((out / "neuron_examples.json").read_text()), kind, dataset_dir, model_dir
    )
    assert summary["timings"]["examples_s"] >= 0 and summary["settings"]["examples_per_unit"] == 4


def _check_neuron_examples(examples, kind, dataset_dir, model_dir):
    """Units per family and hidden layer; per-atom values in RDKit atom order, equal (gnn) to the
    model's own atom states for that molecule."""
    from rdkit import Chem

    from drugnet.features.dataset import model_inputs, open_store
    from drugnet.inference.checkpoint import load_model_dir

    assert examples["kind"] == kind and examples["values"] == (
        "activation" if kind == "gnn" else "occlusion"
    )
    assert examples["level"] == ("atom" if kind == "gnn" else "molecule")
    units = examples["units"]
    assert units and {u["layer"] for u in units} <= {1, 2, 3}
    assert len({(u["family"], u["layer"]) for u in units}) == len(units)
    model = load_model_dir(model_dir).members[0].eval()
    store = open_store(dataset_dir / "features")
    std = pd.read_csv(dataset_dir / "standardized.csv", dtype={"id": str})
    for unit in units:
        assert 1 <= len(unit["examples"]) <= 4
        assert len({e["row"] for e in unit["examples"]}) == len(unit["examples"])
        for example in unit["examples"]:
            assert (
                std["smiles"][example["row"]] == example["smiles"]
                and std["id"][example["row"]] == example["id"]
            )
            n_atoms = Chem.MolFromSmiles(example["smiles"]).GetNumAtoms()
            assert len(example["atom_values"]) == n_atoms <= 40
            assert example["picked"] in ("highest", "highest_with_concept")
            if example["picked"] == "highest_with_concept":
                assert example["has_concept"] is not False
            if example["concept_atoms"]:
                assert max(example["concept_atoms"]) < n_atoms
            if kind == "gnn":
                layers = model.embed(model_inputs(store, np.array([example["row"]]), "gnn", False))
                states = layers[unit["layer"]].atom[:, unit["unit"]].numpy()
                np.testing.assert_allclose(example["atom_values"], states, atol=1e-4)
                assert example["score"] == pytest.approx(states.max(), abs=1e-4)
        values = [v for e in unit["examples"] for v in e["atom_values"]]
        assert unit["scale"] == pytest.approx(
            max(values) if kind == "gnn" else max(abs(v) for v in values), abs=1e-4
        )


@pytest.mark.slow
def test_probe_of_a_refitted_folder_probes_the_selection_fit(tmp_path):
    """The refitted members trained on the validation rows; the probed ones (and the ablation's
    validation ROC-AUC) must be the selection fit's."""
    from drugnet.cli import main
    from drugnet.features.dataset import load_dataset
    from drugnet.inference.checkpoint import save_model_dir
    from drugnet.train.fit_ensemble import train_ensemble

    torch.set_num_threads(1)
    dataset_dir = _dataset_dir(tmp_path, str(DATA / "esol_delaney.csv.gz"))
    data = load_dataset(dataset_dir, ["log_solubility"])
    hparams = {"hidden": 64, "depth": 3, "epochs": 2, "batch_size": 32}
    fits = [
        train_ensemble(data, "snn", "regression", hparams, 1, seed, device="cpu", threads=1)[0]
        for seed in (0, 7)
    ]
    selection_only = save_model_dir(fits[0], tmp_path / "selection_only")
    refitted = save_model_dir(fits[1], tmp_path / "refitted", selection=fits[0])
    out = tmp_path / "probes"
    args = ["probe", "--dataset-dir", str(dataset_dir), "--model-dir", str(refitted)]
    args += ["--output-dir", str(out), "--min-positives", "10", "--n-boot", "100"]
    args += ["--threads", "1", "--extra-model", f"selection={selection_only}"]
    assert main(args) == 0
    probes = pd.read_csv(out / "probes.csv").set_index(["concept", "level", "layer"])
    trained = probes[probes.network == "trained"].auc.sort_index()
    pd.testing.assert_series_equal(probes[probes.network == "selection"].auc.sort_index(), trained)
    assert json.loads((out / "hierarchy.json").read_text())["fit"] == "selection"
