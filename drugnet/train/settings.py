"""How a deep model is optimized: the training half of a hparams dict, typed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrainSettings:
    """Settings of `drugnet.train.loop.fit`.

    AdamW with ``lr`` and ``weight_decay``; ``epochs`` of mini-batches of ``batch_size``, the
    learning rate warming up linearly for ``warmup_epochs`` then decaying (cosine); gradient-norm
    clipping at ``grad_clip`` (0: none); early stopping after ``patience`` epochs without a better
    validation score (None: only ``epochs`` stops); ``pos_weight`` weights positives by the
    negative/positive ratio of each task (classification only); ``pretrained`` (GNN only) is an
    encoder checkpoint whose message-passing layers the model starts from
    (`drugnet.models.encoder`), None for random weights.
    """

    lr: float
    epochs: int
    batch_size: int
    weight_decay: float = 0.0
    warmup_epochs: int = 0
    patience: int | None = None
    grad_clip: float = 0.0
    pos_weight: bool = False
    pretrained: str | None = None

    @classmethod
    def from_hparams(cls, hparams: Mapping[str, Any]) -> TrainSettings:
        """Read the training keys (``drugnet.models.registry.TRAINING_KEYS``) of a plain-JSON
        hparams dict; architecture keys may be present and are ignored. ``lr``, ``epochs`` and
        ``batch_size`` are required, the rest take the defaults above when absent."""
        patience, pretrained = hparams.get("patience"), hparams.get("pretrained")
        return cls(
            lr=float(hparams["lr"]),
            epochs=int(hparams["epochs"]),
            batch_size=int(hparams["batch_size"]),
            weight_decay=float(hparams.get("weight_decay", 0.0)),
            warmup_epochs=int(hparams.get("warmup_epochs", 0)),
            patience=None if patience is None else int(patience),
            grad_clip=float(hparams.get("grad_clip", 0.0)),
            pos_weight=bool(hparams.get("pos_weight", False)),
            pretrained=None if pretrained is None else str(pretrained),
        )
