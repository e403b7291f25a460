"""Calibration and domain shrinkage: fitted on validation predictions only, applied consistently."""

import json

import numpy as np
import pytest
import torch

from drugnet.inference import calibration as cal
from drugnet.train.calibration_fit import fit_from_predictions


def _overconfident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from true probabilities q; predictions pushed toward 0/1 (logit x 3)."""
    rng = np.random.default_rng(seed)
    q = rng.uniform(0.05, 0.95, n)
    y = (rng.uniform(size=n) < q).astype(float)
    logit = np.log(q) - np.log1p(-q)
    return 1 / (1 + np.exp(-3 * logit)), y


def test_platt_repairs_overconfidence_on_held_out_rows():
    p_val, y_val = _overconfident(600, 0)
    p_new, y_new = _overconfident(2000, 1)
    params = cal.fit_calibration(p_val, y_val)
    task = params["tasks"][0]
    assert (
        task["method"] in ("platt", "isotonic")
        and task["cv_log_loss"]["identity"] > task["cv_log_loss"][task["method"]]
    )
    fixed = cal.apply_calibration(params, p_new[:, None])[:, 0]
    assert cal.log_loss(fixed, y_new) < cal.log_loss(p_new, y_new) - 0.05
    if task["method"] == "platt":
        assert task["a"] == pytest.approx(1 / 3, abs=0.08)  # the inverse of the planted temperature
    json.dumps(params)  # stored in model.json


def test_no_calibration_map_reverses_the_models_order():
    p, y = _overconfident(300, 3)
    y = 1 - y  # validation labels that say the model is upside down
    platt = cal._fit_one("platt", p, y)
    assert platt["a"] == 0.0 and platt["b"] == pytest.approx(np.log(y.mean() / (1 - y.mean())))
    params = cal.fit_calibration(p, y)
    out = cal.apply_calibration(params, np.sort(p)[:, None])[:, 0]
    assert np.all(np.diff(out) >= -1e-12)  # whichever map was chosen: non-decreasing


def test_calibration_uses_only_rows_given_and_skips_masked_and_missing():
    p, y = _overconfident(300, 2)
    labels = np.column_stack([y, np.full(300, np.nan)])
    probs = np.column_stack([p, p])
    mask = np.ones((300, 2), bool)
    mask[150:, 0] = False
    params = cal.fit_calibration(probs, labels, mask)
    assert params["tasks"][0]["n"] == 150
    assert params["tasks"][1]["method"] == "identity" and "too few" in params["tasks"][1]["reason"]
    # a change in a masked-out label cannot change the fit
    labels[200:, 0] = 1 - labels[200:, 0]
    assert cal.fit_calibration(probs, labels, mask)["tasks"][0] == params["tasks"][0]


def test_isotonic_and_torch_apply_match_numpy():
    params = {
        "tasks": [
            {"method": "isotonic", "x": [0.1, 0.5, 0.9], "y": [0.0, 0.4, 1.0]},
            {"method": "platt", "a": 0.5, "b": -0.2},
            {"method": "identity"},
        ]
    }
    p = np.array([[0.0, 0.3, 0.3], [0.3, 0.9, 0.5], [0.7, 0.01, 0.99], [1.0, 0.5, 0.1]])
    want = cal.apply_calibration(params, p)
    assert want[1, 0] == pytest.approx(0.2) and want[0, 0] == 0.0 and want[3, 0] == 1.0
    got = cal.apply_calibration_torch(params, torch.as_tensor(p)).numpy()
    assert np.allclose(got, want, atol=1e-12)


def test_shrinkage_threshold_is_where_error_reaches_prevalence():
    """Model informative above s = 0.4, pure noise below: the fitted threshold lands near 0.4 and
    far compounds are pulled to the prevalence with a large predictive std."""
    rng = np.random.default_rng(3)
    n = 4000
    s = rng.uniform(0.1, 0.9, n)
    y = (rng.uniform(size=n) < 0.3).astype(float)
    good = np.where(y == 1, 0.85, 0.1)
    noise = rng.choice([0.02, 0.98], size=n)
    p = np.where(s >= 0.4, good, noise)
    params = cal.fit_shrinkage(p[:, None], y[:, None], s, [0.3])
    assert 0.3 < params["threshold"] < 0.5
    assert params["log_loss"]["shrunk"] < params["log_loss"]["unshrunk"]
    mean, std, w = cal.apply_shrinkage(
        params, np.array([[0.99], [0.99]]), np.array([[0.01], [0.01]]), np.array([0.1, 0.9])
    )
    assert w[0] < 0.05 and w[1] > 0.95
    assert mean[0, 0] == pytest.approx(0.3, abs=0.04) and std[0, 0] > 0.4
    assert mean[1, 0] > 0.95 and std[1, 0] < 0.1


def test_no_shrinkage_without_evidence_of_degradation():
    p, y = _overconfident(500, 4)
    s = np.random.default_rng(5).uniform(0.2, 0.9, 500)
    params = cal.fit_shrinkage(p[:, None], y[:, None], s, [0.5])
    assert params["threshold"] == 0.0  # the model beats the prevalence at every similarity


def test_fit_from_predictions_blocks_are_json():
    p, y = _overconfident(200, 6)
    members = np.stack([p, np.clip(p + 0.02, 0, 1)])[:, :, None]
    block = fit_from_predictions(members, y[:, None], np.linspace(0.2, 0.9, 200), np.array([0.5]))
    assert block["fitted_on"] == "val" and set(block) >= {"map", "shrinkage"}
    mean, std = cal.calibrated_moments(block, members, np.full(200, 0.95))
    assert mean.shape == (200, 1) and (std >= 0).all()
    json.dumps(block)


def test_isotonic_map_in_torch_equals_numpy_at_tied_and_outside_points():
    """The differentiable map used along the integrated-gradients path is the NumPy map, also at
    a tied last threshold (``np.interp`` takes its last point)."""
    xp = [0.0, 0.1, 0.1, 0.1, 0.5, 1.0, 1.0]
    params = {"tasks": [{"method": "isotonic", "x": xp, "y": np.linspace(0, 1, len(xp)).tolist()}]}
    p = np.array([[-0.2], [0.0], [0.05], [0.1], [0.3], [0.5], [0.99], [1.0], [1.3]])
    got = cal.apply_calibration_torch(params, torch.as_tensor(p)).numpy()
    np.testing.assert_allclose(got, cal.apply_calibration(params, p))
