"""Pretraining the GNN encoder and fine-tuning from it: robust descriptor targets, a checkpoint
that loads with ``weights_only=True`` and says how it was made, layers copied into the fine-tuned
model, and a clear error when the architectures differ."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from drugnet.cli import main
from drugnet.features.dataset import input_dims, open_store
from drugnet.models.encoder import ENCODER_FORMAT, encoder_state, init_from_encoder, load_encoder
from drugnet.models.registry import build_model, default_hparams
from drugnet.train.self_supervised import CLIP, descriptor_targets, holdout_rows
from helpers.bace_dataset import TINY, bace_dataset, train_models


def test_descriptor_targets_by_hand() -> None:
    a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1e9]
    sparse = [np.nan] * 5 + [1.0, 2.0, 3.0, np.nan]
    rare = [0.0] * 7 + [100.0, 0.0]
    raw = np.array([a, [5.0] * 9, sparse, rare]).T
    rows = np.arange(8)  # statistics from the first eight rows only
    t = descriptor_targets(raw, ["a", "const", "sparse", "rare"], rows)
    # "const" has no spread, "sparse" is 5/8 missing: both dropped
    assert t.names == ["a", "rare"]
    # a: median 4.5, IQR 6.25 - 2.75 = 3.5 -> scale 3.5 / 1.349; the ninth row is clipped
    scale = 3.5 / 1.349
    assert t.center[0] == pytest.approx(4.5) and t.scale[0] == pytest.approx(scale)
    assert t.values[:8, 0] == pytest.approx((np.arange(1, 9) - 4.5) / scale, rel=1e-6)
    assert t.values[8, 0] == CLIP
    # rare: IQR 0, so the standard deviation scales it
    assert t.center[1] == 0.0 and t.scale[1] == pytest.approx(np.std(rare[:8]))
    assert t.values.dtype == np.float32


def test_holdout_rows_partition() -> None:
    fit, held = holdout_rows(100, 0.05, seed=3)
    assert len(held) == 5 and len(fit) == 95
    assert sorted(np.concatenate([fit, held]).tolist()) == list(range(100))
    assert np.array_equal(held, holdout_rows(100, 0.05, seed=3)[1])


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A dataset folder of real BACE molecules and an encoder pretrained on its structures (labels
    unused) with the tiny GNN architecture of the other training tests."""
    ds = bace_dataset(tmp_path_factory.mktemp("pretrain") / "ds")
    encoder = ds / "encoder.pt"
    hparams = {k: v for k, v in TINY["gnn"].items() if k != "patience"}
    rc = main(
        [
            "pretrain",
            "--corpus-dir",
            str(ds),
            "--output",
            str(encoder),
            "--hparams",
            json.dumps({**hparams, "epochs": 2}),
            "--threads",
            "1",
            "--history",
            str(ds / "pretrain_history.csv"),
        ]
    )
    assert rc == 0
    return ds, encoder


def test_checkpoint_loads_weights_only_and_records_provenance(pretrained) -> None:
    ds, encoder = pretrained
    record = torch.load(encoder, map_location="cpu", weights_only=True)
    assert record["format"] == ENCODER_FORMAT
    assert record["architecture"]["hidden"] == 16 and record["architecture"]["depth"] == 2
    assert record["state_dict"] and all(
        k.startswith(("convs.", "acts.")) for k in record["state_dict"]
    )
    prov = record["provenance"]
    assert prov["command"].startswith("drugnet pretrain --corpus-dir")
    assert len(prov["corpus_sha256"]) == 64 and prov["rows_fit"] + prov["rows_holdout"] > 200
    n_desc = len(open_store(ds / "features").descriptor_names)
    assert 0 < len(prov["targets"]) <= n_desc and np.isfinite(prov["holdout_rmse"])


def _tiny_gnn(ds, **extra):
    hparams = default_hparams("gnn", {**TINY["gnn"], **extra}, "classification")
    hparams.update(input_dims(open_store(ds / "features"), "gnn", False), n_tasks=2)
    return hparams, build_model(hparams)


def test_init_copies_every_layer_and_leaves_the_head(pretrained) -> None:
    ds, encoder = pretrained
    hparams, model = _tiny_gnn(ds)
    head_before = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("head.")}
    init_from_encoder(model, hparams, encoder)
    saved = load_encoder(encoder)["state_dict"]
    assert set(encoder_state(model)) == set(saved)
    for key, value in encoder_state(model).items():
        assert torch.equal(value, saved[key]), key
    for key, value in head_before.items():
        assert torch.equal(model.state_dict()[key], value), key


def test_architecture_mismatch_names_the_keys(pretrained) -> None:
    ds, encoder = pretrained
    hparams, model = _tiny_gnn(ds, hidden=32)
    with pytest.raises(ValueError, match="hidden: encoder 16 vs model 32"):
        init_from_encoder(model, hparams, encoder)


def test_not_an_encoder_is_refused(tmp_path) -> None:
    path = tmp_path / "weights.pt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(ValueError, match="not a drugnet GNN encoder"):
        load_encoder(path)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_encoder(tmp_path / "absent.pt")


@pytest.mark.slow
def test_train_fine_tunes_from_the_encoder(pretrained, monkeypatch) -> None:
    """`drugnet train` with ``pretrained`` starts every member (selection and refit) from the
    encoder, records the path in model.json, and ends with different weights than from scratch."""
    ds, encoder = pretrained
    import drugnet.train.fit_ensemble as fit_ensemble

    starts = []
    real_fit = fit_ensemble.fit

    def spy(model, *args, **kwargs):
        starts.append(encoder_state(model))
        return real_fit(model, *args, **kwargs)

    monkeypatch.setattr(fit_ensemble, "fit", spy)
    monkeypatch.setitem(TINY, "gnn", {**TINY["gnn"], "pretrained": str(encoder)})
    train_models(ds, ["gnn"])
    saved = load_encoder(encoder)["state_dict"]
    assert len(starts) == 4  # 2 members, selection fit and refit
    for start in starts:
        assert all(torch.equal(start[k], saved[k]) for k in saved)
    meta = json.loads((ds / "models" / "gnn" / "model.json").read_text())
    assert meta["hparams"]["pretrained"] == str(encoder)


def test_train_command_reports_an_unusable_encoder(pretrained, tmp_path, capsys) -> None:
    ds, encoder = pretrained
    base = [
        "train",
        "--dataset-dir",
        str(ds),
        "--model",
        "gnn",
        "--task",
        "classification",
        "--targets",
        "Class",
        "--output-dir",
        str(tmp_path / "gnn"),
        "--ensemble",
        "1",
        "--no-refit",
        "--hparams",
    ]
    absent = json.dumps({**TINY["gnn"], "pretrained": str(tmp_path / "absent.pt")})
    assert main([*base, absent]) == 2
    assert "absent.pt not found" in capsys.readouterr().err
    wider = json.dumps({**TINY["gnn"], "hidden": 24, "pretrained": str(encoder)})
    assert main([*base, wider]) == 2
    assert "hidden: encoder 16 vs model 24" in capsys.readouterr().err
    assert not (tmp_path / "gnn").exists()
