"""Integrated-gradients explanations of the campaign score on tiny real models and real
molecules."""

from __future__ import annotations

import json
import logging
import os

import numpy as np
import pandas as pd
import pytest
import torch
from rdkit import Chem

from drugnet.features.batch import GraphBatch
from drugnet.features.build import store_from_smiles
from drugnet.features.dataset import Dataset
from drugnet.inference.checkpoint import save_model_dir
from drugnet.screening.desirability import TaskInfo, combined_score, expand_objectives
from drugnet.screening.explain import integrated_gradients as ig
from drugnet.screening.explain import quadrature
from drugnet.screening.explain.bits import bit_atoms, bits_to_atoms
from drugnet.screening.explain.frame import explain_frame, load_attributable
from drugnet.screening.explain.integrated_gradients import attribute_score
from drugnet.screening.explain.quadrature import adaptive_nodes, gauss_legendre, molecule_chunks
from drugnet.screening.explain.text import (
    DESCRIPTOR_ENTRY,
    ENTRY_PATTERN,
    MAX_ENTRIES,
    describe,
    format_atoms,
    parse_explanation_atoms,
)
from drugnet.screening.score import DatasetModel, task_info_from_model_json
from drugnet.train.fit_ensemble import train_ensemble

TINY = {"epochs": 2, "hidden": 16, "depth": 2, "batch_size": 32}
TINY_SNN = {**TINY, "hidden": 32, "min_feature_count": 2}
#: Converged quadrature for the completeness checks (plain Gauss-Legendre, many nodes).
CONVERGED = {"steps": 256, "grid": 0}


def _complete(total: float, delta: float) -> bool:
    return abs(total - delta) <= 1e-4 + 0.02 * abs(delta)


def _train(
    frame: pd.DataFrame, target: str, kind: str, task: str, overrides: dict, n_members: int = 2
):
    torch.set_num_threads(1)
    smiles = frame["smiles"].tolist()
    store = store_from_smiles(smiles, {}, n_jobs=1)
    data = Dataset(
        [str(i) for i in range(len(smiles))],
        smiles,
        [target],
        frame[[target]].to_numpy(np.float32),
        store,
        np.array(["train"] * len(smiles)),
    )
    return train_ensemble(data, kind, task, overrides, n_members=n_members, threads=1)[0]


def _dataset_model(name: str, ensemble, path) -> DatasetModel:
    save_model_dir(ensemble, path)
    info = task_info_from_model_json(json.loads((path / "model.json").read_text()))
    return DatasetModel(name, path, info, [], [], pd.DataFrame())


@pytest.fixture(scope="module")
def models(tmp_path_factory, bace_head, esol_head):
    """``bace``: GNN classifier (2 members); ``esol``: SNN regressor with descriptors; ``rf``:
    rf_ecfp."""
    root = tmp_path_factory.mktemp("explain_models")
    gnn = _train(bace_head.iloc[:40], "Class", "gnn", "classification", TINY)
    snn = _train(
        esol_head.iloc[:60],
        "log_solubility",
        "snn",
        "regression",
        TINY_SNN,
    )
    rf = _train(
        bace_head.iloc[:40], "Class", "rf_ecfp", "classification", {"n_estimators": 5}, n_members=1
    )
    return {
        "bace": _dataset_model("bace", gnn, root / "bace"),
        "esol": _dataset_model("esol", snn, root / "esol"),
        "rf": _dataset_model("rf", rf, root / "rf"),
    }


@pytest.fixture(scope="module")
def ensembles(models):
    return load_attributable([models["bace"], models["esol"]])


LIBRARY = [  # real drugs (DrugCentral-like), none in the training rows
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
    "CC(C)Cc1ccc(C(C)C(=O)O)cc1",  # ibuprofen
    "CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21",  # diazepam
    "CC(C)NCC(O)COc1cccc2ccccc12",  # propranolol
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",  # caffeine
    "O=C(O)c1ccccc1O",  # salicylic acid
]

BACE = {"dataset": "bace", "target": "Class", "direction": "maximize", "weight": 1.0}
ESOL = {"dataset": "esol", "target": "log_solubility", "direction": "minimize", "weight": 0.5}


def _columns(objectives, models):
    return expand_objectives(objectives, {m.dataset: m.task_info for m in models.values()})


def _gnn_endpoints(ensemble, smiles):
    """Ensemble-mean probability at the molecules and at the all-zero-atom-feature baseline."""
    store = store_from_smiles(smiles, {}, n_jobs=1)
    mean, _ = ensemble.predict(store, device="cpu")
    g = store.graph_batch(np.arange(len(smiles)))
    zero = GraphBatch(torch.zeros_like(g.x), g.edge_index, g.edge_attr, g.batch, g.n_mols)
    with torch.no_grad():
        base = torch.stack([torch.sigmoid(m(zero)) for m in ensemble.members]).mean(0).numpy()
    return mean, base


def _snn_endpoints(ensemble, smiles):
    """Ensemble-mean prediction (label units) at the molecules and at the baseline input: zero
    ECFP counts and every descriptor at its training mean (scaled value 0)."""
    store = store_from_smiles(smiles, {}, n_jobs=1)
    mean, _ = ensemble.predict(store, device="cpu")
    outs = []
    with torch.no_grad():
        for member in ensemble.members:
            n_log = member.n_count_inputs
            raw0 = torch.cat([torch.zeros(n_log), member.scaler.mean[n_log:]]).expand(
                len(smiles), -1
            )
            outs.append(member(raw0) * ensemble.target_std[0] + ensemble.target_mean[0])
    return mean, torch.stack(outs).mean(0).numpy()


def test_gnn_attributions_are_complete_with_zero_atom_baseline(models, ensembles):
    columns = _columns([BACE], models)
    mean, base = _gnn_endpoints(ensembles["bace"], LIBRARY)
    atts = attribute_score(LIBRARY, columns, mean, {"bace": ensembles["bace"]}, **CONVERGED)
    default = attribute_score(LIBRARY, columns, mean, {"bace": ensembles["bace"]})
    s1 = combined_score(pd.DataFrame({"bace.Class": mean[:, 0]}), columns)
    s0 = combined_score(pd.DataFrame({"bace.Class": base[:, 0]}), columns)
    for a, d, smi, hi, lo in zip(atts, default, LIBRARY, s1, s0, strict=False):
        assert len(a.atoms) == Chem.MolFromSmiles(smi).GetNumAtoms()
        assert a.descriptors == 0.0
        assert a.score == pytest.approx(hi, abs=1e-5) and a.baseline_score == pytest.approx(
            lo, abs=1e-5
        )
        assert _complete(a.total, hi - lo), (a.total, hi - lo)
        assert np.abs(a.atoms).max() > 1e-5  # not trivially zero
        assert abs(d.total - (hi - lo)) < 1e-3  # default (adaptive, 16 nodes) is close too


def test_snn_attributions_are_complete_and_map_bits_to_atoms(models, ensembles):
    columns = _columns([ESOL], models)
    mean, base = _snn_endpoints(ensembles["esol"], LIBRARY)
    atts = attribute_score(LIBRARY, columns, mean, {"esol": ensembles["esol"]}, **CONVERGED)
    s1 = combined_score(pd.DataFrame({"esol.log_solubility": mean[:, 0]}), columns)
    s0 = combined_score(pd.DataFrame({"esol.log_solubility": base[:, 0]}), columns)
    for a, hi, lo in zip(atts, s1, s0, strict=False):
        assert a.score == pytest.approx(hi, abs=1e-5) and a.baseline_score == pytest.approx(
            lo, abs=1e-5
        )
        assert _complete(a.total, hi - lo), (a.total, hi - lo)
        assert a.descriptors != 0.0 and np.abs(a.atoms).max() > 0


def test_joint_score_of_two_objectives_is_complete(models, ensembles):
    """GNN classification (maximize) and SNN regression (minimize) in one score: the attributions
    sum to S(x) - S(baseline) of the weighted geometric mean."""
    columns = _columns([BACE, ESOL], models)
    bace, bace0 = _gnn_endpoints(ensembles["bace"], LIBRARY)
    esol, esol0 = _snn_endpoints(ensembles["esol"], LIBRARY)
    s1 = combined_score(
        pd.DataFrame({"bace.Class": bace[:, 0], "esol.log_solubility": esol[:, 0]}), columns
    )
    s0 = combined_score(
        pd.DataFrame({"bace.Class": bace0[:, 0], "esol.log_solubility": esol0[:, 0]}), columns
    )
    atts = attribute_score(LIBRARY, columns, np.column_stack([bace, esol]), ensembles, **CONVERGED)
    for a, hi, lo in zip(atts, s1, s0, strict=False):
        assert a.score == pytest.approx(hi, abs=1e-5) and a.baseline_score == pytest.approx(
            lo, abs=1e-5
        )
        assert _complete(a.total, hi - lo), (a.total, hi - lo)


def test_batched_attributions_equal_one_molecule_at_a_time(models, ensembles, monkeypatch):
    """One forward/backward over the interpolated graphs of several molecules gives each molecule
    the attributions it gets alone (default adaptive quadrature, GNN + SNN objectives), also when
    the batch is split into several chunks by the node budget, or into blocks of rows."""
    columns = _columns([BACE, ESOL], models)
    bace, _ = _gnn_endpoints(ensembles["bace"], LIBRARY)
    esol, _ = _snn_endpoints(ensembles["esol"], LIBRARY)
    values = np.column_stack([bace, esol])
    alone = [
        attribute_score([smi], columns, values[i : i + 1], ensembles)[0]
        for i, smi in enumerate(LIBRARY)
    ]
    together = attribute_score(LIBRARY, columns, values, ensembles)
    monkeypatch.setattr(ig, "ROW_BLOCK", 4)  # two blocks of rows: 4 + 2
    blocked = attribute_score(LIBRARY, columns, values, ensembles)
    monkeypatch.setattr(quadrature, "NODE_BUDGET", 800)  # a few molecules per chunk
    chunked = attribute_score(LIBRARY, columns, values, ensembles)
    n_atoms = np.array([Chem.MolFromSmiles(s).GetNumAtoms() for s in LIBRARY])
    assert len(molecule_chunks(n_atoms, 16)) > 1
    for one, batch, block, split in zip(alone, together, blocked, chunked, strict=True):
        scale = np.abs(one.atoms).max()
        assert scale > 0
        for other in (batch, block, split):
            np.testing.assert_allclose(other.atoms, one.atoms, rtol=1e-4, atol=1e-5 * scale)
            assert other.descriptors == pytest.approx(one.descriptors, rel=1e-4, abs=1e-5 * scale)
            assert other.score == pytest.approx(one.score, rel=1e-5)


def test_rf_objective_is_held_constant(models, ensembles):
    """An rf_ecfp objective scales the score but gets no attribution: with its column fixed at
    0.25 and weights 3:1, the path score is ``p ** 0.75 * 0.25 ** 0.25``."""
    rf_col = {"dataset": "rf", "target": "Class", "direction": "maximize", "weight": 1.0}
    columns = _columns([{**BACE, "weight": 3.0}, rf_col], models)
    mean, base = _gnn_endpoints(ensembles["bace"], LIBRARY)
    fixed = np.full((len(LIBRARY), 1), 0.25)
    atts = attribute_score(
        LIBRARY, columns, np.column_stack([mean, fixed]), {"bace": ensembles["bace"]}, **CONVERGED
    )
    for a, hi, lo in zip(atts, mean[:, 0], base[:, 0], strict=False):
        s1, s0 = float(hi) ** 0.75 * 0.25**0.25, float(lo) ** 0.75 * 0.25**0.25
        assert a.score == pytest.approx(s1, abs=1e-5) and a.baseline_score == pytest.approx(
            s0, abs=1e-5
        )
        assert _complete(a.total, s1 - s0), (a.total, s1 - s0)


def _frame(models, smiles, objectives, index=None):
    store = store_from_smiles(smiles, {}, n_jobs=1)
    frame = pd.DataFrame(
        {"id": [f"m{i}" for i in range(len(smiles))], "smiles": smiles}, index=index
    )
    from drugnet.inference.checkpoint import load_model_dir

    for dataset in {o["dataset"] for o in objectives}:
        ens = load_model_dir(models[dataset].model_dir)
        mean, _ = ens.predict(store, device="cpu")
        for t, target in enumerate(ens.targets):
            frame[f"{dataset}.{target}"] = mean[:, t]
    return frame


def test_explain_frame_formats_indices_and_determinism(models):
    index = [10, 3, 7, 1, 99, 5]
    campaign = {"objectives": [BACE, ESOL]}
    frame = _frame(models, LIBRARY, campaign["objectives"], index=index)
    frame.loc[99, "smiles"] = "not a smiles"
    chosen = [models["bace"], models["esol"]]
    first = explain_frame(frame, campaign, chosen, threads=1, steps=8)
    second = explain_frame(frame, campaign, chosen, threads=1, steps=8)
    assert (
        list(first.columns) == ["explanation", "explanation_atoms"] and list(first.index) == index
    )
    assert first.equals(second)  # byte-identical strings
    assert first.loc[99].tolist() == ["", ""]
    for i, row in first.drop(index=99).iterrows():
        n_atoms = Chem.MolFromSmiles(frame.loc[i, "smiles"]).GetNumAtoms()
        atoms = parse_explanation_atoms(row["explanation_atoms"])
        assert atoms and list(atoms) == sorted(atoms) and all(0 <= a < n_atoms for a in atoms)
        assert all(v != 0.0 for v in atoms.values())
        entries = row["explanation"].split("; ")
        assert 1 <= len(entries) <= MAX_ENTRIES + 2
        for entry in entries:
            match = ENTRY_PATTERN.fullmatch(entry)
            assert match, entry
            assert match["sign"] == match["value"][0]
            if match["atoms"]:
                assert all(0 <= int(a) < n_atoms for a in match["atoms"].split(","))
    # the SNN uses descriptors
    assert first["explanation"].str.contains(DESCRIPTOR_ENTRY, regex=False).any()


def test_rf_ecfp_only_campaign_gives_empty_strings_and_warns(models, caplog):
    campaign = {"objectives": [{"dataset": "rf", "target": "Class"}]}
    frame = _frame(models, LIBRARY[:3], campaign["objectives"])
    with caplog.at_level(logging.WARNING, logger="drugnet.screening"):
        out = explain_frame(frame, campaign, [models["rf"]], threads=1)
    assert (out["explanation"] == "").all() and (out["explanation_atoms"] == "").all()
    assert sum("cannot be attributed" in r.getMessage() for r in caplog.records) == 1
    mixed = {"objectives": [BACE, {"dataset": "rf", "target": "Class"}]}
    frame = _frame(models, LIBRARY[:3], mixed["objectives"])
    out = explain_frame(frame, mixed, [models["bace"], models["rf"]], threads=1, steps=8)
    assert (out["explanation_atoms"] != "").all()


ACID_SCAFFOLDS = [
    "c1ccccc1",
    "CCCC",
    "C1CCCCC1",
    "c1ccncc1",
    "CC(C)C",
    "c1ccc2ccccc2c1",
    "c1ccc(OC)cc1",
    "c1ccc(Cl)cc1",
    "C1CCOCC1",
    "c1ccsc1",
    "CCN(CC)CC",
    "c1ccc(C)cc1",
]


def test_score_driven_by_carboxylic_acid_puts_the_acid_on_top(tmp_path):
    """A GNN trained to recognise carboxylic acids (against esters, amides, ketones, alcohols,
    aldehydes, phenols on the same scaffolds): the acid group carries the explanation."""
    rows = []
    for r in ACID_SCAFFOLDS:
        rows += [(p + r, 1.0) for p in ("OC(=O)", "OC(=O)C", "OC(=O)CC")]
        rows += [(p + r, 0.0) for p in ("COC(=O)", "NC(=O)", "CC(=O)", "OC", "O=C", "O", "OCC(=O)")]
    train = pd.DataFrame(rows, columns=["smiles", "acid"])
    ens = _train(
        train,
        "acid",
        "gnn",
        "classification",
        {
            "epochs": 30,
            "hidden": 32,
            "depth": 2,
            "lr": 3e-3,
            "batch_size": 32,
            "dropout": 0.0,
            "patience": 100,
        },
        n_members=1,
    )
    model = _dataset_model("acid", ens, tmp_path / "acid")
    tests = ["OC(=O)c1ccc(N)cc1", "CCOC(=O)CCC(=O)O", "CC(C)Cc1ccc(C(C)C(=O)O)cc1"]
    campaign = {"objectives": [{"dataset": "acid", "target": "acid"}]}
    frame = _frame({"acid": model}, tests, campaign["objectives"])
    assert (frame["acid.acid"] > 0.9).all()
    out = explain_frame(frame, campaign, [model], threads=1)
    acid = Chem.MolFromSmarts("[#6]C(=O)[OX2H1]")
    for smi, text, atoms_text in zip(
        tests, out["explanation"], out["explanation_atoms"], strict=False
    ):
        group = {a for match in Chem.MolFromSmiles(smi).GetSubstructMatches(acid) for a in match}
        top = ENTRY_PATTERN.fullmatch(text.split("; ")[0])
        assert top["sign"] == "+" and not top["name"].startswith("atom ")
        assert {int(a) for a in top["atoms"].split(",")} <= group, text
        phi = parse_explanation_atoms(atoms_text)
        positive = sum(v for v in phi.values() if v > 0)
        assert sum(v for a, v in phi.items() if a in group and v > 0) > 0.5 * positive


def test_describe_picks_specific_group_not_synonyms_and_reports_rest():
    mol = Chem.MolFromSmiles("OC(=O)Cc1ccccc1")  # phenylacetic acid: O0 C1 O2 C3 ring 4-9
    phi = np.array([0.30, 0.25, 0.20, 0.01, 0.02, 0.0, -0.01, 0.0, 0.0, 0.02])
    text = describe(mol, phi, descriptors=-0.1)
    entries = text.split("; ")
    top = ENTRY_PATTERN.fullmatch(entries[0])
    assert (
        top["atoms"] == "0,1,2" and "carboxylic acid" in top["name"] and top["value"] == "+0.7500"
    )
    assert (
        sum("carboxylic acid" in e or "NegIonizable" in e for e in entries) == 1
    )  # synonyms suppressed
    assert entries[-1] == f"- {DESCRIPTOR_ENTRY} -0.1000"
    assert describe(mol, np.zeros(10)) == ""
    assert describe(mol, np.full(10, np.nan)) == ""


def test_format_atoms_contract():
    assert format_atoms(np.array([0.5, -1e-5, -0.2, 0.0, 0.004])) == "0:+0.5000;2:-0.2000"
    assert format_atoms(np.array([-0.00004, 0.00003])) == ""
    assert format_atoms(np.array([np.nan, 1.0])) == ""
    text = format_atoms(np.array([0.123456, -0.045, 0.0, 0.3]))
    assert text == "0:+0.1235;1:-0.0450;3:+0.3000"
    assert parse_explanation_atoms(text) == {0: 0.1235, 1: -0.045, 3: 0.3}
    with pytest.raises(ValueError):
        parse_explanation_atoms("0:0.1")


def test_bits_to_atoms_conserves_attribution():
    mol = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
    counts = store_from_smiles([Chem.MolToSmiles(mol)], {}, n_jobs=1).ecfp([0])[0].numpy()
    bits = np.zeros(2048)
    on = np.flatnonzero(counts)
    bits[on] = np.linspace(-1.0, 1.0, len(on))
    phi = bits_to_atoms(mol, bits, 2, 2048)
    assert phi.sum() == pytest.approx(bits.sum(), abs=1e-9)
    envs = bit_atoms(mol, 2, 2048)
    assert set(envs) == set(on.tolist())
    one = np.zeros(2048)
    bit, atoms = next((b, e[0]) for b, e in sorted(envs.items()) if len(e) == 1 and len(e[0]) == 1)
    one[bit] = 1.0
    assert np.flatnonzero(bits_to_atoms(mol, one, 2, 2048)).tolist() == list(atoms)


def test_adaptive_nodes_integrate_a_sharp_step():
    alpha = np.linspace(0.0, 1.0, 9)[:, None]

    def sharp(a):
        return 1.0 / (1.0 + np.exp(-60.0 * (a - 0.37)))

    def deriv(a):
        return 60.0 * sharp(a) * (1.0 - sharp(a))

    nodes, weights = adaptive_nodes(sharp(alpha), 16)
    assert nodes.shape == (16, 1) and np.all((nodes > 0) & (nodes < 1))
    assert weights.sum() == pytest.approx(1.0)
    exact = sharp(1.0) - sharp(0.0)
    adaptive = float((deriv(nodes) * weights).sum())
    u, w = gauss_legendre(16)
    uniform = float((deriv(u) * w).sum())
    assert abs(adaptive - exact) < 0.01 < abs(uniform - exact)
    flat_nodes, flat_weights = adaptive_nodes(np.zeros((9, 1)), 16)
    assert flat_weights.sum() == pytest.approx(1.0) and np.all(
        np.diff(np.sort(flat_nodes[:, 0])) > 0
    )


def test_empty_frame_and_missing_model_dir(models):
    campaign = {"objectives": [BACE]}
    empty = explain_frame(
        pd.DataFrame(columns=["id", "smiles", "bace.Class"]), campaign, [models["bace"]]
    )
    assert empty.empty and list(empty.columns) == ["explanation", "explanation_atoms"]
    none = DatasetModel(
        "bace", None, TaskInfo("classification", ("Class",)), [], [], pd.DataFrame()
    )
    one = pd.DataFrame({"id": ["a"], "smiles": ["CCO"], "bace.Class": [0.5]})
    out = explain_frame(one, campaign, [none])
    assert out.loc[0].tolist() == ["", ""]


def test_calibrated_shrunk_expected_score_is_what_is_explained(models, ensembles):
    """With a calibration map, domain shrinkage, a property objective and the default ``expected``
    ranking, the path's score at the molecule equals ``combined_score`` of the ranked columns and
    the attributions still sum to S(x) - S(baseline)."""
    import copy

    from drugnet.screening.properties import property_values

    ensemble = copy.copy(ensembles["bace"])
    ensemble.calibration = {
        "map": {"tasks": [{"method": "platt", "a": 0.6, "b": 0.1}]},
        "shrinkage": {"beta": 30.0, "threshold": 0.4, "prevalence": [0.45]},
    }
    similarity = np.array([0.2, 0.5, 0.3, 0.8, 0.45, 0.1])
    store = store_from_smiles(LIBRARY, {}, n_jobs=1)
    mean, std = ensemble.predict(store, device="cpu", similarity=similarity)
    weights = 1 / (1 + np.exp(-30.0 * (similarity - 0.4)))
    columns = _columns([BACE, {"property": "qed", "window": [0.5, None], "weight": 0.5}], models)
    qed = property_values(LIBRARY, ["qed"])["qed"].to_numpy()
    frame = pd.DataFrame({"bace.Class": mean[:, 0], "bace.Class.std": std[:, 0], "qed": qed})
    s1 = combined_score(frame, columns, "expected")
    values = np.column_stack([mean[:, 0], qed])
    atts = attribute_score(
        LIBRARY,
        columns,
        values,
        {"bace": ensemble},
        steps=128,
        grid=0,
        domain_weights={"bace": weights},
        ranking="expected",
    )
    for a, hi in zip(atts, s1, strict=False):
        assert a.score == pytest.approx(hi, abs=1e-5)
        assert _complete(a.total, a.score - a.baseline_score), (a.total, a.score - a.baseline_score)


def test_chunks_shrink_with_the_members_on_the_path():
    """More GNN members on the path mean fewer atoms per chunk, more SNN members fewer rows (each
    member keeps its activations for the backward pass); up to three members nothing changes."""
    one_atom, ten_atoms = np.ones(1000, int), np.full(1000, 10)
    rows = quadrature.ROW_BUDGET // 16
    assert len(molecule_chunks(one_atom, 16)[0]) == rows
    assert len(molecule_chunks(one_atom, 16, snn_members=3)[0]) == rows
    assert len(molecule_chunks(one_atom, 16, snn_members=6)[0]) == rows // 2
    atoms = quadrature.NODE_BUDGET // (16 * 10)
    assert len(molecule_chunks(ten_atoms, 16, gnn_members=3)[0]) == atoms
    assert len(molecule_chunks(ten_atoms, 16, gnn_members=9)[0]) == atoms // 3
    for chunks in (molecule_chunks(ten_atoms, 16, 9, 6), molecule_chunks(one_atom, 9, 0, 12)):
        assert np.array_equal(np.concatenate(chunks), np.arange(1000))


def test_a_score_that_does_not_move_on_the_path_is_not_attributed(models, ensembles, monkeypatch):
    """Out of the domain (``ad_weight`` ~ 0) the model term is the prevalence all along the path:
    such a molecule gets no gradient pass, zero attributions (both columns empty) and its path
    ends; the others are attributed as when every molecule is in the domain."""
    import copy

    ensemble = copy.copy(ensembles["bace"])
    ensemble.calibration = {"shrinkage": {"beta": 30.0, "threshold": 0.4, "prevalence": [0.45]}}
    columns = _columns([BACE], models)
    mean, _ = _gnn_endpoints(ensemble, LIBRARY)
    weights = np.array([1.0, 1e-7, 1.0, 0.0, 1.0, 1.0])
    passes: list[int] = []
    real = ig.adaptive_nodes
    monkeypatch.setattr(
        ig, "adaptive_nodes", lambda s, steps: (passes.append(s.shape[1]), real(s, steps))[1]
    )
    run = {"domain_weights": {"bace": weights}}
    atts = attribute_score(LIBRARY, columns, mean, {"bace": ensemble}, **run)
    assert sum(passes) == 4  # the two molecules at weight ~0 never reach the gradient pass
    inside = attribute_score(LIBRARY, columns, mean, {"bace": ensemble})
    for a, full, w in zip(atts, inside, weights, strict=True):
        assert np.isfinite(a.score) and np.isfinite(a.baseline_score)
        if w < 0.5:
            assert not a.atoms.any() and a.descriptors == 0.0 and format_atoms(a.atoms) == ""
            assert a.score == pytest.approx(0.45, abs=1e-6)
            assert abs(a.score - a.baseline_score) < ig.SCORE_RESOLUTION
        else:
            scale = np.abs(full.atoms).max()
            assert scale > 0
            np.testing.assert_allclose(a.atoms, full.atoms, rtol=1e-4, atol=1e-5 * scale)


@pytest.fixture(scope="module")
def consensus_dir(models, bace_head, tmp_path_factory):
    """``models/{gnn,snn,rf_ecfp,consensus}`` as a default run writes them: the fixture's BACE GNN
    and forest, a tiny SNN classifier on the same 40 rows, and a consensus fitted on 40 other BACE
    rows (with a calibration map and domain shrinkage, as the consensus rule writes)."""
    from drugnet.inference.checkpoint import load_model_dir, save_consensus
    from drugnet.inference.consensus import Combiner, ConsensusModel

    root = tmp_path_factory.mktemp("consensus") / "models"
    snn = _train(
        bace_head.iloc[:40],
        "Class",
        "snn",
        "classification",
        TINY_SNN,
    )
    save_model_dir(snn, root / "snn")
    for name, source in (("gnn", "bace"), ("rf_ecfp", "rf")):
        save_model_dir(load_model_dir(models[source].model_dir), root / name)
    names = ["gnn", "snn", "rf_ecfp"]
    components = [load_model_dir(root / n) for n in names]
    P, y = _validation(components, bace_head)
    consensus = ConsensusModel(
        "classification",
        ["Class"],
        names,
        components,
        Combiner.fit("rank_mean", "classification", P, y),
        components[0].feature_settings,
        calibration={
            "map": {"tasks": [{"method": "platt", "a": 0.8, "b": -0.1}]},
            "shrinkage": {"beta": 30.0, "threshold": 0.4, "prevalence": [0.45]},
        },
    )
    save_consensus(consensus, {}, root / "consensus")
    return root


def _validation(components, bace_head):
    """The components' predictions ``[M, 40, 1]`` on the 40 BACE rows that fit the consensus, and
    their labels."""
    val = bace_head.iloc[40:80]
    store = store_from_smiles(val["smiles"].tolist(), {}, n_jobs=1)
    P = np.stack([c.predict(store, device="cpu")[0] for c in components])
    return P, val[["Class"]].to_numpy(np.float32)


@pytest.mark.parametrize("method", ["mean", "rank_mean", "stacking"])
def test_consensus_score_is_explained_through_its_gnn_and_snn_components(
    models, consensus_dir, bace_head, method
):
    """A consensus (gnn + snn + forest) on the path: at the molecule the path score equals
    ``combined_score`` of ``ConsensusModel.predict`` (calibrated, shrunk, ``expected`` ranking),
    the attributions are complete, and both networks contribute (the forest is held constant)."""
    from drugnet.inference.checkpoint import load_model_dir
    from drugnet.inference.consensus import Combiner

    consensus = load_model_dir(consensus_dir / "consensus")
    consensus.combiner = Combiner.fit(
        method, "classification", *_validation(consensus.components, bace_head)
    )
    similarity = np.array([0.2, 0.5, 0.3, 0.8, 0.45, 0.1])
    library = store_from_smiles(LIBRARY, {}, n_jobs=1)
    mean, std = consensus.predict(library, device="cpu", similarity=similarity)
    columns = _columns([BACE], models)
    frame = pd.DataFrame({"bace.Class": mean[:, 0], "bace.Class.std": std[:, 0]})
    s1 = combined_score(frame, columns, "expected")
    weights = {"bace": 1 / (1 + np.exp(-30.0 * (similarity - 0.4)))}
    run = {"steps": 128, "grid": 0, "domain_weights": weights, "ranking": "expected"}
    atts = attribute_score(LIBRARY, columns, mean, {"bace": consensus}, **run)
    for a, hi in zip(atts, s1, strict=True):
        assert a.score == pytest.approx(hi, abs=1e-5)
        assert _complete(a.total, a.score - a.baseline_score), (a.total, a.score - a.baseline_score)
    # each network's share: holding it constant changes the attributions (not for rank_mean:
    # these tiny models put the library outside the GNN's validation quantiles, where a
    # percentile is flat, in NumPy as in torch)
    for held in ("gnn", "snn") if method != "rank_mean" else ():
        alone = attribute_score(
            LIBRARY, columns, mean, {"bace": _holding(consensus, held, library)}, **run
        )
        assert any(np.abs(b.atoms - a.atoms).max() > 1e-6 for a, b in zip(atts, alone, strict=True))


def _holding(consensus, name: str, store):
    """``consensus`` with component ``name`` turned into a constant (a forest-like stand-in)."""
    import copy

    class Held:
        kind = "rf_ecfp"

        def __init__(self, component):
            self.component = component

        def predict(self, store, idx=None, device="cpu"):
            return self.component.predict(store, idx, device=device)

    out = copy.copy(consensus)
    out.components = [
        Held(c) if n == name else c for n, c in zip(out.models, out.components, strict=True)
    ]
    return out


def test_explain_frame_explains_a_saved_consensus_and_warns_about_its_forest(
    models, consensus_dir, caplog
):
    info = task_info_from_model_json(
        json.loads((consensus_dir / "consensus" / "model.json").read_text())
    )
    chosen = [DatasetModel("bace", consensus_dir / "consensus", info, [], [], pd.DataFrame())]
    campaign = {"objectives": [BACE]}
    frame = _frame({"bace": chosen[0]}, LIBRARY, campaign["objectives"])
    with caplog.at_level(logging.WARNING, logger="drugnet.screening"):
        out = explain_frame(frame, campaign, chosen, threads=1, steps=8)
    assert (out["explanation_atoms"] != "").all() and (out["explanation"] != "").all()
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "rf_ecfp cannot be attributed and are held" in m and "gnn/snn" in m for m in messages
    )
    # a consensus of forests only is held constant, like a forest objective
    only_rf = load_attributable([_only_forest(consensus_dir, info)])
    assert only_rf == {}


def _only_forest(consensus_dir, info) -> DatasetModel:
    meta = json.loads((consensus_dir / "consensus" / "model.json").read_text())
    meta["models"] = ["rf_ecfp"]
    meta["params"] = [{}]
    meta["method"] = "mean"
    folder = consensus_dir / "consensus_rf"
    folder.mkdir(exist_ok=True)
    (folder / "model.json").write_text(json.dumps(meta))
    return DatasetModel("bace", folder, info, [], [], pd.DataFrame())


def test_blocks_in_worker_processes_equal_one_process(models, consensus_dir, monkeypatch, tmp_path):
    """With ``threads`` > 1 and several blocks of rows, the blocks run in forked worker processes
    (one torch thread each): the same columns, to the byte, as one process with one thread; the
    campaign mixes a consensus (gnn + snn, forest held) and a plain GNN objective."""
    info = task_info_from_model_json(
        json.loads((consensus_dir / "consensus" / "model.json").read_text())
    )
    chosen = [
        DatasetModel("bace", consensus_dir / "consensus", info, [], [], pd.DataFrame()),
        models["esol"],
    ]
    campaign = {"objectives": [BACE, ESOL]}
    frame = _frame({"bace": chosen[0], "esol": models["esol"]}, LIBRARY, campaign["objectives"])
    monkeypatch.setattr(ig, "ROW_BLOCK", 2)  # three blocks of rows
    block = ig._attribute_block

    def counted(*args, **kwargs):  # leaves a file named after the process that explains a block
        (tmp_path / str(os.getpid())).touch()
        return block(*args, **kwargs)

    monkeypatch.setattr(ig, "_attribute_block", counted)
    one = explain_frame(frame, campaign, chosen, threads=1, steps=8)
    assert {p.name for p in tmp_path.iterdir()} == {str(os.getpid())}
    (tmp_path / str(os.getpid())).unlink()
    two = explain_frame(frame, campaign, chosen, threads=2, steps=8)
    names = {p.name for p in tmp_path.iterdir()}
    assert names and str(os.getpid()) not in names
    assert (one["explanation_atoms"] != "").all()
    pd.testing.assert_frame_equal(one, two)
