"""Pretrained GNN encoders: the message-passing layers of a `GNN`, saved apart from any head.

A checkpoint is a plain dict (``torch.load(..., weights_only=True)`` reads it): ``format``, the
``architecture`` it was built with, the ``state_dict`` of the layers (``convs.*``, ``acts.*``) and
``provenance`` (command, commit, corpus, targets). Fine-tuning copies the layers into a new GNN
of the same architecture; its readout and head start from their usual random initialization.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from drugnet.io.atomic import atomic_path
from drugnet.models.gnn import GNN

ENCODER_FORMAT = "drugnet-gnn-encoder/1"
#: Architecture keys a fine-tuned GNN must share with the encoder (the layers' shapes and meaning).
ENCODER_KEYS = ("atom_dim", "bond_dim", "hidden", "depth", "variant", "aggr", "residual", "norm")
_LAYER_PREFIXES = ("convs.", "acts.")


def encoder_state(model: GNN) -> dict[str, torch.Tensor]:
    """The message-passing layers' tensors (parameters and BatchNorm statistics), on CPU."""
    return {
        key: value.detach().cpu().clone()
        for key, value in model.state_dict().items()
        if key.startswith(_LAYER_PREFIXES)
    }


def encoder_architecture(hparams: Mapping[str, Any]) -> dict[str, Any]:
    """The `ENCODER_KEYS` of a GNN hparams dict, with the constructor's defaults for absent
    optional keys."""
    defaults = {"aggr": "add", "residual": False, "norm": "batch"}
    return {key: hparams.get(key, defaults.get(key)) for key in ENCODER_KEYS}


def save_encoder(
    path: str | Path, model: GNN, hparams: Mapping[str, Any], provenance: Mapping[str, Any]
) -> Path:
    """Write ``model``'s encoder (built from ``hparams``) with its ``provenance`` to ``path``."""
    record = {
        "format": ENCODER_FORMAT,
        "architecture": encoder_architecture(hparams),
        "state_dict": encoder_state(model),
        "provenance": dict(provenance),
    }
    with atomic_path(path) as tmp:
        torch.save(record, tmp)
    return Path(path)


def load_encoder(path: str | Path) -> dict[str, Any]:
    """Read an encoder checkpoint (tensors and plain values only: ``weights_only=True``)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"pretrained encoder {path} not found")
    record = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(record, dict) or record.get("format") != ENCODER_FORMAT:
        raise ValueError(f"{path} is not a drugnet GNN encoder (format {ENCODER_FORMAT!r})")
    return record


def init_from_encoder(model: GNN, hparams: Mapping[str, Any], path: str | Path) -> None:
    """Copy the encoder at ``path`` into ``model``'s message-passing layers; the architecture in
    ``hparams`` must match the encoder's (else a ValueError naming the keys that differ)."""
    record = load_encoder(path)
    ours = encoder_architecture(hparams)
    differ = {
        key: (record["architecture"].get(key), ours[key])
        for key in ENCODER_KEYS
        if record["architecture"].get(key) != ours[key]
    }
    if differ:
        detail = ", ".join(f"{k}: encoder {a!r} vs model {b!r}" for k, (a, b) in differ.items())
        raise ValueError(f"pretrained encoder {path} does not fit this GNN ({detail})")
    missing, unexpected = model.load_state_dict(record["state_dict"], strict=False)
    missing_layers = [k for k in missing if k.startswith(_LAYER_PREFIXES)]  # readout/head: new
    if missing_layers or unexpected:
        raise ValueError(
            f"pretrained encoder {path}: tensors missing {missing_layers}, unexpected "
            f"{list(unexpected)}"
        )
