"""``rf_ecfp`` baseline: one scikit-learn random forest per task on ECFP4 counts."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor


class RFEcfp:
    """Multi-task wrapper: forest ``t`` is trained on the rows where task ``t`` is labelled.

    A classification task whose training labels hold one class predicts that constant.
    ``predict(X)`` returns positive-class probabilities or values, ``[n, T]``.
    """

    def __init__(self, task: str, hparams: dict[str, Any], seed: int = 0, threads: int = 1) -> None:
        self.task = task
        self.hparams = dict(hparams)
        self.seed = seed
        self.threads = threads
        self.forests: list[Any] = []

    def _forest(self):
        kwargs = {
            "n_estimators": int(self.hparams.get("n_estimators", 500)),
            "min_samples_leaf": int(self.hparams.get("min_samples_leaf", 1)),
            "max_features": self.hparams.get("max_features", "sqrt"),
            "n_jobs": self.threads,
            "random_state": self.seed,
        }
        if self.task == "classification":
            return RandomForestClassifier(class_weight=self.hparams.get("class_weight"), **kwargs)
        return RandomForestRegressor(**kwargs)

    def fit(self, X: np.ndarray, y: np.ndarray) -> RFEcfp:
        """Fit on counts ``X`` ``[n, bits]`` and labels ``y`` ``[n, T]`` (NaN = missing)."""
        self.forests = []
        for t in range(y.shape[1]):
            mask = ~np.isnan(y[:, t])
            yt = y[mask, t]
            if len(yt) == 0 or (self.task == "classification" and len(np.unique(yt)) < 2):
                self.forests.append(
                    float(yt[0]) if len(yt) else 0.5 if self.task == "classification" else 0.0
                )
                continue
            self.forests.append(
                self._forest().fit(X[mask], yt.astype(int) if self.task == "classification" else yt)
            )
        return self

    def set_threads(self, threads: int) -> None:
        for forest in self.forests:
            if not isinstance(forest, float):
                forest.n_jobs = threads

    def predict(self, X: np.ndarray) -> np.ndarray:
        cols = []
        for forest in self.forests:
            if isinstance(forest, float):
                cols.append(np.full(len(X), forest))
            elif self.task == "classification":
                cols.append(forest.predict_proba(X)[:, list(forest.classes_).index(1)])
            else:
                cols.append(forest.predict(X))
        return np.stack(cols, axis=1).astype(np.float32)
