"""The consensus model: combination rules, no test/external labels used, a model like the others
(evaluate, predict)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from drugnet.cli import main
from drugnet.inference.consensus import Combiner
from drugnet.train.consensus import choose_method, crossfit_score, fit_consensus
from helpers.bace_dataset import bace_dataset, train_models

MODELS = ["gnn", "snn", "rf_ecfp"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    ds = bace_dataset(tmp_path_factory.mktemp("cons") / "ds")
    train_models(ds)
    return ds


def _predictions(seed: int = 0, n: int = 200):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 2)) < 0.3).astype(np.float32)
    good = np.clip(0.5 * y + 0.5 * rng.random((n, 2)), 0, 1)
    noisy = rng.random((n, 2))
    squashed = 0.1 * good + 0.02  # right ranking, compressed scale (a forest's)
    return np.stack([good, noisy, squashed]).astype(np.float32), y


@pytest.mark.parametrize("method", ["mean", "rank_mean", "stacking"])
def test_combiners_give_probabilities_and_stay_monotone_in_a_perfect_model(method) -> None:
    P, y = _predictions()
    comb = Combiner.fit(method, "classification", P, y)
    out = comb.combine(P)
    assert out.shape == (200, 2) and np.all((out >= 0) & (out <= 1))
    # the combination must rank better than the noisy model alone
    from drugnet.train.metrics import selection_score

    assert (
        selection_score("classification", y, out) > selection_score("classification", y, P[1]) + 0.1
    )


def test_stacking_learns_to_down_weight_a_noise_model() -> None:
    P, y = _predictions()
    params = Combiner.fit("stacking", "classification", P, y).params[0]
    assert abs(params["coef"][1]) < params["coef"][0]


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_stacking_never_gives_a_model_a_negative_weight(task) -> None:
    rng = np.random.default_rng(1)
    y = np.zeros((60, 1), np.float32)
    y[7] = 1.0  # one active, which every model scores low: validation noise
    truth = rng.random(60)
    P = np.stack([truth, truth + 0.01 * rng.random(60), 0.9 * truth]).astype(np.float32)[..., None]
    P[:, 7] = 0.05
    if task == "regression":
        y = (0.01 * rng.random((60, 1)) - P[0]).astype(np.float32)  # anti-correlated
    comb = Combiner.fit("stacking", task, P, y)
    assert comb.params[0] == {}  # every weight negative: falls back to the mean
    assert np.allclose(comb.combine(P), P.mean(0))


def test_stacking_refits_without_the_model_whose_weight_is_negative() -> None:
    P, y = _predictions()
    P = np.concatenate([P, 1 - P[:1]])  # an inverted copy of the good model
    coef = Combiner.fit("stacking", "classification", P, y).params[0]["coef"]
    assert coef[3] == 0.0 and min(coef) >= 0.0 and coef[0] > 0.0


def test_auto_picks_the_best_cross_fitted_method_and_reports_every_candidate() -> None:
    P, y = _predictions()
    chosen, scores = choose_method("classification", P, y)
    assert set(scores) == {"mean", "rank_mean", "stacking"}
    assert scores[chosen] == max(scores.values())
    assert crossfit_score("mean", "classification", P, y) == scores["mean"]


def test_rank_mean_is_refused_for_regression() -> None:
    P, y = _predictions()
    with pytest.raises(ValueError, match="rank_mean is for classification"):
        Combiner.fit("rank_mean", "regression", P, y)


def _poison_labels(ds, splits: set[str]) -> None:
    frame = pd.read_csv(ds / "standardized.csv")
    split = pd.read_csv(ds / "split.csv")["split"]
    rows = split.isin(splits).to_numpy()
    frame.loc[rows, "Class"] = 1.0 - frame.loc[rows, "Class"]
    frame.loc[rows, "heavy"] = np.nan
    frame.to_csv(ds / "standardized.csv", index=False)


def _external_with_flipped_labels(ds) -> None:
    from drugnet.features.build import featurize_file

    ext = ds / "external_test"
    ext.mkdir()
    frame = pd.read_csv(ds / "standardized.csv").head(40)
    frame["Class"] = 1.0 - frame["Class"]
    frame.to_csv(ext / "standardized.csv", index=False)
    featurize_file(ext / "standardized.csv", ext / "features", n_bits=512)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["auto", "stacking", "rank_mean"])
def test_consensus_is_unchanged_when_test_and_external_labels_are_poisoned(
    trained, tmp_path, method
) -> None:
    clean, evidence = fit_consensus(trained, MODELS, method, threads=1)
    poisoned_dir = tmp_path / "ds"
    shutil.copytree(trained, poisoned_dir, symlinks=True)
    _poison_labels(poisoned_dir, {"test"})
    _external_with_flipped_labels(poisoned_dir)
    poisoned, poisoned_evidence = fit_consensus(poisoned_dir, MODELS, method, threads=1)
    assert poisoned.combiner.method == clean.combiner.method
    assert json.dumps(poisoned.combiner.params) == json.dumps(clean.combiner.params)
    assert poisoned_evidence == evidence
    # ... while poisoning the validation labels does change it (the test can fail)
    _poison_labels(poisoned_dir, {"val"})
    _, val_poisoned = fit_consensus(poisoned_dir, MODELS, method, threads=1)
    assert val_poisoned["crossfit_val_scores"] != evidence["crossfit_val_scores"]


@pytest.mark.slow
def test_consensus_command_evaluate_and_predict(trained, tmp_path) -> None:
    out = trained / "models" / "consensus"
    assert (
        main(
            [
                "consensus",
                "--dataset-dir",
                str(trained),
                "--models",
                *MODELS,
                "--output-dir",
                str(out),
                "--threads",
                "1",
            ]
        )
        == 0
    )
    meta = json.loads((out / "model.json").read_text())
    assert (
        meta["kind"] == "consensus"
        and meta["models"] == MODELS
        and meta["method"] in {"mean", "rank_mean", "stacking"}
    )
    assert meta["val_score"] == meta["crossfit_val_scores"][meta["method"]]
    metrics_path = tmp_path / "metrics.json"
    assert (
        main(
            [
                "evaluate",
                "--dataset-dir",
                str(trained),
                "--models",
                *MODELS,
                "consensus",
                "--output",
                str(metrics_path),
                "--predictions-dir",
                str(tmp_path / "pred"),
                "--threads",
                "1",
            ]
        )
        == 0
    )
    metrics = json.loads(metrics_path.read_text())
    for model in [*MODELS, "consensus"]:  # the shape {model: {split: {mean, per_task}}} is kept
        assert set(metrics[model]) == {"train", "val", "test"}
        for entry in metrics[model].values():
            assert {"mean", "per_task"} <= set(entry) and set(entry["per_task"]) == {
                "Class",
                "heavy",
            }
            assert entry["fit"] == "selection"
    assert metrics["consensus"]["val"]["mean"]["roc_auc"] == pytest.approx(
        meta["val_score"], abs=0.05
    )
    table = pd.read_csv(tmp_path / "pred" / "consensus_test.csv")
    assert list(table.columns[:5]) == ["id", "smiles", "Class", "Class.std", "Class.true"]
    assert (table["Class.std"] > 0).any()
    smiles = pd.DataFrame({"smiles": table["smiles"].head(5).tolist() + ["not a smiles"]})
    smiles.to_csv(tmp_path / "new.csv", index=False)
    assert (
        main(
            [
                "predict",
                "--model",
                str(out),
                "--input",
                str(tmp_path / "new.csv"),
                "--output",
                str(tmp_path / "p.csv"),
                "--threads",
                "1",
            ]
        )
        == 0
    )
    predicted = pd.read_csv(tmp_path / "p.csv")
    assert len(predicted) == 5 and predicted["Class"].between(0, 1).all()
    assert len(pd.read_csv(tmp_path / "p.rejects.csv")) == 1


@pytest.mark.slow
def test_best_may_pick_the_consensus_on_its_validation_score(trained, tmp_path) -> None:
    from drugnet.screening.score import resolve_model_dir

    ds = tmp_path / "ds"
    shutil.copytree(trained, ds, symlinks=True)
    meta_path = ds / "models" / "consensus" / "model.json"
    if not meta_path.exists():
        main(
            [
                "consensus",
                "--dataset-dir",
                str(ds),
                "--models",
                *MODELS,
                "--output-dir",
                str(meta_path.parent),
                "--threads",
                "1",
            ]
        )
    meta = json.loads(meta_path.read_text())
    meta["val_score"] = 1.0
    meta_path.write_text(json.dumps(meta))
    assert resolve_model_dir(ds, "best").name == "consensus"
    meta["val_score"] = 0.0
    meta_path.write_text(json.dumps(meta))
    assert resolve_model_dir(ds, "best").name != "consensus"


def test_a_consensus_of_a_consensus_or_of_nothing_is_refused(trained) -> None:
    from drugnet.inference.consensus import check_components

    with pytest.raises(ValueError, match="no models to combine"):
        check_components([], [])


@pytest.mark.slow
def test_components_are_named_by_folder_so_two_gnns_combine_and_unsafe_names_are_refused(
    trained, tmp_path
) -> None:
    from drugnet.inference.checkpoint import ModelDirError, load_model_dir

    ds = tmp_path / "ds"
    shutil.copytree(trained, ds, symlinks=True)
    # a second GNN folder (as gnn_pretrained: kind gnn, another name)
    shutil.copytree(ds / "models" / "gnn", ds / "models" / "gnn_pretrained")
    names = ["gnn", "gnn_pretrained", "snn"]
    out = ds / "models" / "consensus"
    args = ["consensus", "--dataset-dir", str(ds), "--models", *names]
    assert main([*args, "--output-dir", str(out), "--threads", "1"]) == 0
    model = load_model_dir(out)
    assert model.models == names and [c.kind for c in model.components] == ["gnn", "gnn", "snn"]
    meta = json.loads((out / "model.json").read_text())
    for bad in (["../gnn"], ["gnn", "consensus"], ["models/gnn"], [], "gnn"):
        meta["models"] = bad
        (out / "model.json").write_text(json.dumps(meta))
        with pytest.raises(ModelDirError, match="sibling model folder names"):
            load_model_dir(out)
