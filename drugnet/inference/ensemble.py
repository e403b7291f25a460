"""A trained ensemble: its members and what turns their outputs into predictions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from drugnet.features.dataset import FeatureSource, model_inputs
from drugnet.inference.calibration import calibrated_moments
from drugnet.inference.forward import predict_raw, resolve_device


@dataclass
class Ensemble:
    """Trained members plus what is needed to turn their outputs into predictions.

    Classification: members' sigmoid probabilities are averaged; regression: standardized
    outputs are mapped back with ``target_mean``/``target_std`` and averaged. ``std`` is the
    spread across members (0 for a single member).
    """

    kind: str
    task: str
    targets: list[str]
    hparams: dict[str, Any]
    members: list[Any]
    target_mean: list[float] | None = None
    target_std: list[float] | None = None
    feature_settings: dict = field(default_factory=dict)
    member_info: list[dict] = field(default_factory=list)
    calibration: dict | None = (
        None  # drugnet.inference.calibration params (classification), fitted on validation
    )

    @property
    def use_descriptors(self) -> bool:
        return bool(self.hparams.get("use_descriptors", False))

    def _member_predict(
        self,
        member: Any,
        store: FeatureSource,
        indices: np.ndarray,
        device: torch.device,
        batch_size: int,
    ) -> np.ndarray:
        if self.kind == "rf_ecfp":
            parts = [
                member.predict(
                    model_inputs(store, indices[i : i + batch_size], "rf_ecfp", False).numpy()
                )
                for i in range(0, len(indices), batch_size)
            ]
            return np.concatenate(parts) if parts else np.zeros((0, len(self.targets)), np.float32)
        member.to(device)
        out = predict_raw(
            member,
            lambda idx: model_inputs(store, idx, self.kind, self.use_descriptors),
            indices,
            device,
            batch_size,
        )
        if self.task == "classification":
            return 1.0 / (1.0 + np.exp(-out))
        return out * np.asarray(self.target_std, np.float32) + np.asarray(
            self.target_mean, np.float32
        )

    def predict_members(
        self,
        store: FeatureSource,
        indices: np.ndarray | None = None,
        device: str = "auto",
        batch_size: int = 1024,
    ) -> np.ndarray:
        """Per-member predictions ``[k, n, T]`` (probabilities or label units)."""
        indices = np.arange(store.n) if indices is None else np.asarray(indices)
        dev = resolve_device(device)
        return np.stack(
            [self._member_predict(m, store, indices, dev, batch_size) for m in self.members]
        )

    def predict(
        self,
        store: FeatureSource,
        indices: np.ndarray | None = None,
        device: str = "auto",
        batch_size: int = 1024,
        similarity: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ensemble mean and std, each ``[n, T]``; calibrated when the ensemble has a calibration
        (and shrunk toward the training prevalence when ``similarity`` to the training set is
        given)."""
        preds = self.predict_members(store, indices, device, batch_size)
        if not self.calibration:
            return preds.mean(0), preds.std(0)
        return calibrated_moments(self.calibration, preds, similarity)
