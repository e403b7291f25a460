"""Masked losses ignore missing labels exactly; metrics agree with scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import (
    average_precision_score,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
)

from drugnet.train.losses import (
    masked_bce_with_logits,
    masked_mse,
    positive_class_weights,
)
from drugnet.train.metrics import mae, pr_auc, r2, rmse, roc_auc, score, selection_score


def _labels() -> torch.Tensor:
    return torch.tensor([[1.0, float("nan")], [0.0, 1.0], [float("nan"), 0.0], [1.0, 1.0]])


@pytest.mark.parametrize("pos_weight", [None, torch.tensor([3.0, 0.5])])
def test_masked_bce_ignores_missing_labels(pos_weight) -> None:
    logits = torch.tensor([[0.3, -1.2], [2.0, 0.1], [-0.7, 1.5], [0.0, -0.4]], requires_grad=True)
    y = _labels()
    loss = masked_bce_with_logits(logits, y, pos_weight)
    loss.backward()
    mask = ~torch.isnan(y)
    assert (logits.grad[~mask] == 0).all() and (logits.grad[mask] != 0).all()
    for fill in (0.0, 1.0, 7.0):  # any value at a masked position changes nothing
        y2 = y.clone()
        y2[~mask] = fill
        assert torch.equal(
            masked_bce_with_logits(logits, torch.where(mask, y2, torch.nan), pos_weight), loss
        )
    pw = torch.ones(2) if pos_weight is None else pos_weight
    expected = torch.stack(
        [
            F.binary_cross_entropy_with_logits(logits[i, t], y[i, t], pos_weight=pw[t])
            for i, t in mask.nonzero().tolist()
        ]
    ).mean()
    assert torch.allclose(loss, expected)


def test_masked_mse_ignores_missing_labels() -> None:
    pred = torch.tensor([[0.5, 1.0], [-1.0, 2.0], [3.0, 0.0], [0.0, 0.0]], requires_grad=True)
    y = _labels()
    loss = masked_mse(pred, y)
    loss.backward()
    mask = ~torch.isnan(y)
    assert (pred.grad[~mask] == 0).all()
    assert torch.allclose(loss, ((pred[mask] - y[mask]) ** 2).mean())


def test_positive_class_weights() -> None:
    y = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, float("nan")]])
    assert torch.allclose(positive_class_weights(y), torch.tensor([3.0, 2.0]))


def test_classification_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, (50, 3)).astype(float)
    p = rng.random((50, 3))
    y[rng.random((50, 3)) < 0.2] = np.nan
    y[:, 2] = np.where(np.isnan(y[:, 2]), np.nan, 1.0)  # single class -> undefined
    auc, ap = roc_auc(y, p), pr_auc(y, p)
    for t in range(2):
        m = ~np.isnan(y[:, t])
        assert math.isclose(auc[t], roc_auc_score(y[m, t], p[m, t]))
        assert math.isclose(ap[t], average_precision_score(y[m, t], p[m, t]))
    assert np.isnan(auc[2]) and np.isnan(ap[2])
    s = score("classification", y, p, ["a", "b", "c"])
    assert math.isclose(s["mean"]["roc_auc"], auc[:2].mean())
    assert s["per_task"]["c"]["roc_auc"] is None
    assert math.isclose(selection_score("classification", y, p), auc[:2].mean())


def test_regression_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=(40, 2))
    p = y + rng.normal(scale=0.3, size=(40, 2))
    y[3, 1] = np.nan
    m = ~np.isnan(y[:, 1])
    assert math.isclose(rmse(y, p)[1], math.sqrt(np.mean((y[m, 1] - p[m, 1]) ** 2)))
    assert math.isclose(mae(y, p)[1], mean_absolute_error(y[m, 1], p[m, 1]))
    assert math.isclose(r2(y, p)[0], r2_score(y[:, 0], p[:, 0]))
    s = score("regression", y, p, ["u", "v"])
    assert set(s["mean"]) == {"rmse", "mae", "r2"} and math.isclose(
        s["per_task"]["u"]["r2"], r2_score(y[:, 0], p[:, 0])
    )
    assert selection_score("regression", y, p) < 0
