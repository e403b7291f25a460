"""Store ``RFEcfp`` forests as plain arrays in ``.npz`` (no pickle), so a model folder cannot run
code.

Each scikit-learn tree is its ``Tree`` state (the ``nodes`` record array and the ``values``
array); the forest and wrapper settings go in a JSON string. Loading uses
``np.load(allow_pickle=False)``, checks every array's dtype and shape and every child/feature
index before handing the arrays to scikit-learn, and rebuilds the estimators.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.tree._tree import Tree

from drugnet.models.forest import RFEcfp

FOREST_FORMAT = 1


class ForestFileError(ValueError):
    """A forest ``.npz`` that drugnet did not write or that was altered."""


def _json_params(estimator: Any) -> dict[str, Any]:
    """Constructor parameters that survive JSON (all of drugnet's do; ``n_jobs`` is set at load)."""
    params = {k: v for k, v in estimator.get_params().items() if k != "n_jobs"}
    return json.loads(json.dumps(params, default=lambda v: None))


def _tree_arrays(prefix: str, tree: Tree, arrays: dict[str, np.ndarray]) -> dict[str, int]:
    state = tree.__getstate__()
    arrays[f"{prefix}_nodes"] = state["nodes"]
    arrays[f"{prefix}_values"] = state["values"]
    return {"max_depth": int(state["max_depth"]), "node_count": int(state["node_count"])}


def _forest_meta(t: int, forest: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    if isinstance(forest, float):
        return {"constant": forest}
    trees = [
        _tree_arrays(f"f{t}_t{i}", est.tree_, arrays) for i, est in enumerate(forest.estimators_)
    ]
    meta = {
        "params": _json_params(forest),
        "tree_params": _json_params(forest.estimators_[0]),
        "n_features": int(forest.n_features_in_),
        "trees": trees,
    }
    if hasattr(forest, "classes_"):
        meta["classes"] = [int(c) for c in forest.classes_]
    return meta


def save_forest(model: RFEcfp, path: str | Path) -> None:
    """Write ``model`` to ``path`` (an open file or a path; ``.npz``, no pickled objects)."""
    arrays: dict[str, np.ndarray] = {}
    meta = {
        "format": FOREST_FORMAT,
        "task": model.task,
        "hparams": model.hparams,
        "seed": model.seed,
        "forests": [_forest_meta(t, f, arrays) for t, f in enumerate(model.forests)],
    }
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    with open(path, "wb") as fh:
        # numpy's stub types **kwds against its allow_pickle keyword (no key here is named so)
        np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]


@cache
def _expected_node_dtype() -> np.dtype:
    """The node record layout of this scikit-learn (fitted once per process: it was once per tree,
    a third of the time to load a forest)."""
    probe = DecisionTreeRegressor(max_depth=1).fit(np.zeros((2, 1)), np.zeros(2))
    return probe.tree_.__getstate__()["nodes"].dtype


def _check_tree(
    nodes: np.ndarray, values: np.ndarray, node_count: int, n_features: int, n_classes: int
) -> None:
    if nodes.dtype != _expected_node_dtype() or nodes.shape != (node_count,):
        raise ForestFileError(
            f"tree nodes have dtype {nodes.dtype} shape {nodes.shape}, expected {node_count} nodes"
        )
    if values.dtype != np.float64 or values.shape != (node_count, 1, n_classes):
        raise ForestFileError(
            f"tree values have shape {values.shape}, expected ({node_count}, 1, {n_classes})"
        )
    for child in ("left_child", "right_child"):
        if np.any((nodes[child] < -1) | (nodes[child] >= node_count)):
            raise ForestFileError(f"tree {child} index outside 0..{node_count - 1}")
    if np.any((nodes["feature"] < -2) | (nodes["feature"] >= n_features)):
        raise ForestFileError(f"tree feature index outside 0..{n_features - 1}")


def _load_tree(
    arrays: Any, prefix: str, info: dict, n_features: int, classes: list[int] | None, params: dict
) -> Any:
    nodes, values = arrays[f"{prefix}_nodes"], arrays[f"{prefix}_values"]
    n_classes = len(classes) if classes is not None else 1
    _check_tree(nodes, values, int(info["node_count"]), n_features, n_classes)
    tree = Tree(n_features, np.array([n_classes], dtype=np.intp), 1)
    tree.__setstate__(
        {
            "max_depth": int(info["max_depth"]),
            "node_count": int(info["node_count"]),
            "nodes": nodes,
            "values": values,
        }
    )
    est = (DecisionTreeClassifier if classes is not None else DecisionTreeRegressor)(**params)
    _set_fitted(est, n_features, classes)
    est.tree_ = tree
    return est


def _set_fitted(est: Any, n_features: int, classes: list[int] | None) -> None:
    est.n_features_in_ = n_features
    est.n_outputs_ = 1
    if classes is not None:
        est.classes_ = np.array(classes)
        est.n_classes_ = len(classes)


def _load_forest(arrays: Any, t: int, meta: dict) -> Any:
    if "constant" in meta:
        return float(meta["constant"])
    classes = meta.get("classes")
    n_features = int(meta["n_features"])
    forest = (RandomForestClassifier if classes is not None else RandomForestRegressor)(
        **meta["params"]
    )
    forest.estimators_ = [
        _load_tree(arrays, f"f{t}_t{i}", info, n_features, classes, meta["tree_params"])
        for i, info in enumerate(meta["trees"])
    ]
    forest.estimator_ = (DecisionTreeClassifier if classes is not None else DecisionTreeRegressor)()
    _set_fitted(forest, n_features, classes)
    return forest


def load_forest(path: str | Path, threads: int = 1) -> RFEcfp:
    """Rebuild an ``RFEcfp`` written by :func:`save_forest`; raises ``ForestFileError`` on anything
    else."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            meta = json.loads(str(arrays["meta"]))
            if meta.get("format") != FOREST_FORMAT:
                raise ForestFileError(
                    f"forest format {meta.get('format')!r}, expected {FOREST_FORMAT}"
                )
            model = RFEcfp(meta["task"], meta["hparams"], seed=int(meta["seed"]), threads=threads)
            model.forests = [_load_forest(arrays, t, m) for t, m in enumerate(meta["forests"])]
    except (KeyError, TypeError, ValueError, OSError) as exc:
        if isinstance(exc, ForestFileError):
            raise
        raise ForestFileError(
            f"{path}: not a forest file written by drugnet ({type(exc).__name__}: {exc})"
        ) from exc
    model.set_threads(threads)
    return model
