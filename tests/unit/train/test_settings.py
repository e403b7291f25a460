"""TrainSettings: the training half of a hparams dict, typed; the dict on disk is unchanged."""

from __future__ import annotations

import dataclasses

import pytest

from drugnet.models.registry import TRAINING_KEYS, default_hparams, split_hparams
from drugnet.train.settings import TrainSettings


def test_fields_are_the_training_keys() -> None:
    assert {f.name for f in dataclasses.fields(TrainSettings)} == TRAINING_KEYS


@pytest.mark.parametrize("kind", ["gnn", "snn"])
def test_from_hparams_reads_the_defaults(kind: str) -> None:
    hp = default_hparams(kind)
    settings = TrainSettings.from_hparams(hp)
    assert settings == TrainSettings.from_hparams(split_hparams(hp)[1])
    # every training key the kind has (``pretrained`` is the GNN's only), None where absent
    assert dataclasses.asdict(settings) == {key: hp.get(key) for key in TRAINING_KEYS}
    assert ("pretrained" in hp) == (kind == "gnn")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.lr = 1.0  # type: ignore[misc]


def test_absent_optional_keys_keep_the_loop_defaults() -> None:
    settings = TrainSettings.from_hparams({"lr": 1, "epochs": 3.0, "batch_size": "8"})
    assert settings == TrainSettings(lr=1.0, epochs=3, batch_size=8)
    assert (settings.weight_decay, settings.warmup_epochs, settings.grad_clip) == (0.0, 0, 0.0)
    assert settings.patience is None and settings.pos_weight is False
    assert isinstance(settings.lr, float) and isinstance(settings.epochs, int)
