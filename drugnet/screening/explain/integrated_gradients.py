"""Integrated gradients of the campaign score along one joint path of all attributable models
(method: :mod:`drugnet.screening.explain`): the score in torch along the path, the quadrature,
and the per-atom attribution of each molecule (:func:`attribute_score`)."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import torch
from rdkit import Chem

from drugnet.features.build import store_from_smiles
from drugnet.features.dataset import FeatureSource
from drugnet.inference.consensus import ConsensusModel
from drugnet.inference.ensemble import Ensemble
from drugnet.inference.prediction import feature_settings_of
from drugnet.io.progress import progress
from drugnet.screening.desirability import ObjectiveColumn, desirability, score_torch
from drugnet.screening.explain.consensus_path import ConsensusPath, held_predictions
from drugnet.screening.explain.gnn import GnnPath
from drugnet.screening.explain.path_model import PathModel
from drugnet.screening.explain.quadrature import (
    DEFAULT_IG_STEPS,
    PATH_GRID,
    adaptive_nodes,
    gauss_legendre,
    molecule_chunks,
)
from drugnet.screening.explain.snn import SnnPath
from drugnet.screening.explain.text import DECIMALS

#: A molecule whose score moves by less than this at every point of the forward grid (half the last
#: digit the explanation columns print) has nothing readable to attribute (typically: far from
#: every model's training set, its model terms shrunk to the prevalence); its gradient pass is
#: skipped and its attribution stays zero, so both columns are empty.
SCORE_RESOLUTION = 0.5 * 10.0**-DECIMALS
#: Molecules parsed, featurized and attributed at a time: bounds the memory that grows with the
#: number of explained rows (RDKit molecules, features, a consensus's held predictions). With
#: ``threads`` > 1 and at least two blocks, the blocks run in ``threads`` worker processes of one
#: torch thread each (the networks' matrices are too small for two torch threads to share well).
ROW_BLOCK = 1_000
#: Model kind -> its path model.
PATH_MODELS: dict[str, type[GnnPath] | type[SnnPath]] = {"gnn": GnnPath, "snn": SnnPath}
#: The kinds whose inputs can be attributed (a consensus through its gnn and snn components).
ATTRIBUTABLE_KINDS = (*PATH_MODELS, "consensus")
#: A model that can be attributed: an ensemble (gnn, snn) or a consensus with such components.
Attributable = Ensemble | ConsensusModel
#: What a model is on the path (``predict`` and ``atom_attributions``).
OnPath = PathModel | ConsensusPath


@dataclass
class Attribution:
    """Attribution of one molecule's score: ``atoms`` ``[n_atoms]`` (score units, RDKit atom
    order), ``descriptors`` (molecule-level descriptor inputs, not atom-mapped); ``score`` and
    ``baseline_score`` are ``S`` at the two path ends (NaN when no model is attributable)."""

    atoms: np.ndarray
    descriptors: float = 0.0
    score: float = float("nan")
    baseline_score: float = float("nan")

    @property
    def total(self) -> float:
        """Sum of all attributions (IG completeness: ``~ score - baseline_score``)."""
        return float(self.atoms.sum() + self.descriptors)


@dataclass
class PathConstants:
    """What stays fixed along the IG path: the values and desirability stds of the columns without
    an attributable model (``[b, n_columns]``; properties, rf_ecfp), each dataset's domain weight
    ``w`` ``[b]`` (ranked.csv ``ad_weight``; 1 when unknown) and the campaign ranking."""

    values: np.ndarray
    sd: np.ndarray
    weights: dict[str, np.ndarray]
    ranking: str = "mean"
    #: dataset -> a consensus's :func:`held_predictions` (rows ``idx`` only)
    held: dict[str, list[np.ndarray | None]] = field(default_factory=dict)


def path_members(model: Attributable, kind: str) -> int:
    """Members of kind ``kind`` (gnn, snn) that ``model`` puts on the path (their activations
    bound the chunk size)."""
    if isinstance(model, ConsensusModel):
        return sum(len(c.members) for c in model.components if c.kind == kind)
    return len(model.members) if model.kind == kind else 0


def on_path(
    model: Attributable,
    store: FeatureSource,
    idx: np.ndarray,
    alphas: torch.Tensor,
    held: list[np.ndarray | None] | None = None,
) -> OnPath:
    """``model`` on the path of molecules ``idx`` (rows of ``store``)."""
    if isinstance(model, ConsensusModel):
        return ConsensusPath(model, store, idx, alphas, held)
    return PATH_MODELS[model.kind](model, store, idx, alphas)


def column_terms(
    y: torch.Tensor, sd: torch.Tensor, col: ObjectiveColumn
) -> tuple[torch.Tensor, torch.Tensor]:
    """Desirability and its std of one model column in torch (as ``desirability`` /
    ``desirability_std``)."""
    if col.task_type == "classification":
        p = y.clamp(0.0, 1.0)
        sd_p = sd
    else:
        p = torch.sigmoid((y - col.mean) / col.std)
        sd_p = p * (1 - p) * sd / col.std
    return (p if col.direction == "maximize" else 1.0 - p), sd_p


def shrink_torch(
    ensemble: Attributable, mean: torch.Tensor, std: torch.Tensor, w: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`drugnet.inference.calibration.apply_shrinkage` with the molecule's fixed weight
    ``w`` ``[N]``."""
    shrink = (ensemble.calibration or {}).get("shrinkage")
    if not shrink:
        return mean, std
    pi = torch.as_tensor(shrink["prevalence"], dtype=mean.dtype).view(1, -1)
    w = w.view(-1, 1).to(mean.dtype)
    var = w * std**2 + (1 - w) * pi * (1 - pi) + w * (1 - w) * (mean - pi) ** 2
    return w * mean + (1 - w) * pi, torch.sqrt(var.clamp(min=0.0))


def path_score(
    ensembles: Mapping[str, Attributable],
    stores: Mapping[str, FeatureSource],
    idx: np.ndarray,
    alphas: np.ndarray,
    columns: Sequence[ObjectiveColumn],
    fixed: PathConstants,
) -> tuple[torch.Tensor, dict[str, OnPath]]:
    """``S`` ``[m, b]`` at path positions ``alphas`` ``[m, b]`` of molecules ``idx`` (rows of the
    stores); ``fixed``: the constants of the path (rows ``idx`` only)."""
    a = torch.as_tensor(alphas, dtype=torch.float32)
    m = a.shape[0]
    path = {d: on_path(e, stores[d], idx, a, fixed.held.get(d)) for d, e in ensembles.items()}
    preds = {}
    for d, p in path.items():
        w = torch.as_tensor(fixed.weights.get(d, np.ones(len(idx))), dtype=torch.float64).repeat(m)
        preds[d] = shrink_torch(ensembles[d], *p.predict(), w)
    ds, sds = [], []
    for j, col in enumerate(columns):
        if col.dataset in preds:
            t = list(ensembles[col.dataset].targets).index(col.target)
            d_j, sd_j = column_terms(preds[col.dataset][0][:, t], preds[col.dataset][1][:, t], col)
        else:
            d_j = torch.as_tensor(
                desirability(fixed.values[:, j], col), dtype=torch.float64
            ).repeat(m)
            sd_j = torch.as_tensor(fixed.sd[:, j], dtype=torch.float64).repeat(m)
        ds.append(d_j)
        sds.append(sd_j)
    return score_torch(ds, sds, columns, fixed.ranking).view(a.shape), path


def attribute_score(
    smiles: Sequence[str],
    columns: Sequence[ObjectiveColumn],
    values: np.ndarray,
    ensembles: Mapping[str, Attributable],
    steps: int = DEFAULT_IG_STEPS,
    threads: int = 1,
    grid: int = PATH_GRID,
    sd: np.ndarray | None = None,
    domain_weights: Mapping[str, np.ndarray] | None = None,
    ranking: str = "mean",
) -> list[Attribution | None]:
    """IG attribution of the campaign score (see :mod:`drugnet.screening.explain`) for each
    SMILES.

    ``columns``: the campaign's objective columns (``expand_objectives``); ``values`` ``[n,
    len(columns)]``: the predicted objective values, used for the columns whose dataset has no
    entry in ``ensembles`` (held constant); ``ensembles``: dataset -> attributable model (an
    ``Ensemble`` of kind gnn or snn, or a ``ConsensusModel`` with such components). ``steps``
    gradient evaluations per molecule, placed by :func:`adaptive_nodes` from a forward-only
    pass over ``grid + 1`` evenly spaced points (``grid=0``: plain Gauss-Legendre); a molecule
    whose ``S`` moves by less than ``SCORE_RESOLUTION`` on that grid keeps zero attributions
    (no gradient pass). ``sd`` ``[n,
    len(columns)]``: desirability stds of the held-constant columns (default 0);
    ``domain_weights``: dataset -> ``ad_weight`` ``[n]`` (default 1); ``ranking``: the
    campaign's. ``threads``: worker processes of one torch thread each when there are at least
    two ``ROW_BLOCK`` blocks of rows and the platform can fork (then the result equals
    ``threads=1``), else torch threads.
    Returns ``None`` for unparsable SMILES.
    """
    values = np.asarray(values, dtype=np.float64).reshape(len(smiles), len(columns))
    sd = (
        np.zeros_like(values)
        if sd is None
        else np.asarray(sd, dtype=np.float64).reshape(values.shape)
    )
    weights_of = {d: np.asarray(w, dtype=np.float64) for d, w in (domain_weights or {}).items()}
    blocks = [slice(i, i + ROW_BLOCK) for i in range(0, len(smiles), ROW_BLOCK)]
    tasks = [
        (
            list(smiles[b]),
            PathConstants(values[b], sd[b], {d: w[b] for d, w in weights_of.items()}, ranking),
        )
        for b in blocks
    ]
    setup = BlockSetup(columns, ensembles, steps, grid)
    result: list[Attribution | None] = []
    bar = progress(len(smiles), "explain", "molecules")
    if threads > 1 and len(tasks) > 1 and "fork" in multiprocessing.get_all_start_methods():
        for part in _blocks_in_workers(tasks, setup, threads):
            result += part
            bar.update(len(part))
    else:
        for block_smiles, fixed in tasks:
            result += _attribute_block(block_smiles, fixed, setup, threads, bar)
    bar.close()
    return result


@dataclass
class BlockSetup:
    """What every block of rows is explained with: the campaign's objective columns, the
    attributable models, the gradient evaluations and the grid of the forward pass."""

    columns: Sequence[ObjectiveColumn]
    ensembles: Mapping[str, Attributable]
    steps: int
    grid: int


class _Silent:
    """A progress bar that shows nothing (a worker's; the parent counts finished blocks)."""

    def update(self, n: int = 1) -> None:
        pass


_worker_setup: BlockSetup | None = None


def _start_worker(setup: BlockSetup) -> None:
    """One thread for torch and for the forests a consensus holds (their predictions per block)."""
    global _worker_setup
    torch.set_num_threads(1)
    for model in setup.ensembles.values():
        for member in model.members:
            if hasattr(member, "set_threads"):
                member.set_threads(1)
    _worker_setup = setup


def _worker_block(task: tuple[list[str], PathConstants]) -> list[Attribution | None]:
    if _worker_setup is None:
        raise RuntimeError("explanation worker used before _start_worker")
    return _attribute_block(task[0], task[1], _worker_setup, 1, _Silent())


def _blocks_in_workers(
    tasks: list[tuple[list[str], PathConstants]], setup: BlockSetup, threads: int
) -> Iterator[list[Attribution | None]]:
    """:func:`_attribute_block` of each task in ``threads`` forked worker processes (the loaded
    models are inherited, not copied or pickled), results in task order."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        min(threads, len(tasks)),
        mp_context=context,
        initializer=_start_worker,
        initargs=(setup,),
    ) as pool:
        yield from pool.map(_worker_block, tasks)


def _attribute_block(
    smiles: list[str], block: PathConstants, setup: BlockSetup, threads: int, bar: Any
) -> list[Attribution | None]:
    """:func:`attribute_score` of one block of molecules (``block``: its constants, every row)."""
    columns, ensembles, steps, grid = setup.columns, setup.ensembles, setup.steps, setup.grid
    mols = [Chem.MolFromSmiles(s) if isinstance(s, str) and s else None for s in smiles]
    valid = [(i, m) for i, m in enumerate(mols) if m is not None and m.GetNumAtoms() > 0]
    rows = np.array([i for i, _ in valid], dtype=np.int64)
    vmols = [m for _, m in valid]
    parsed = [Attribution(np.zeros(mol.GetNumAtoms())) for mol in vmols]
    result: list[Attribution | None] = [None] * len(smiles)
    for i, att in zip(rows, parsed, strict=True):
        result[i] = att
    bar.update(len(smiles) - len(rows))
    if not len(rows) or not ensembles:
        bar.update(len(rows))
        return result
    settings = {d: feature_settings_of(e) for d, e in ensembles.items()}
    stores = _stores([smiles[i] for i in rows.tolist()], settings, threads)
    held = {
        d: held_predictions(e, stores[d], np.arange(len(rows)))
        for d, e in ensembles.items()
        if isinstance(e, ConsensusModel)
    }
    grid = min(grid, steps)  # at least one node per grid interval
    n_atoms = np.array([m.GetNumAtoms() for m in vmols])
    width = {k: sum(path_members(e, k) for e in ensembles.values()) for k in ("gnn", "snn")}

    def constants(idx: np.ndarray) -> PathConstants:
        return PathConstants(
            block.values[rows[idx]],
            block.sd[rows[idx]],
            {d: w[rows[idx]] for d, w in block.weights.items()},
            block.ranking,
            {d: [None if h is None else h[idx] for h in hs] for d, hs in held.items()},
        )

    todo = np.arange(len(rows))
    s_grid = None
    if grid > 0:
        s_grid = _grid_scores(ensembles, stores, columns, constants, n_atoms, grid, width)
        _set_ends(parsed, todo, s_grid)
        todo = np.flatnonzero(np.abs(s_grid - s_grid[:1]).max(axis=0) >= SCORE_RESOLUTION)
        bar.update(len(rows) - len(todo))  # the score does not move: nothing to attribute
    for chunk in molecule_chunks(n_atoms[todo], max(steps, grid + 1), width["gnn"], width["snn"]):
        idx = todo[chunk]
        fixed = constants(idx)
        if s_grid is not None:
            alphas, weights = adaptive_nodes(s_grid[:, idx], steps)
        else:
            nodes, w = gauss_legendre(steps)
            alphas, weights = nodes[:, None].repeat(len(idx), 1), w[:, None].repeat(len(idx), 1)
            ends = np.array([[0.0], [1.0]]).repeat(len(idx), 1)
            with torch.no_grad():
                s_ends = path_score(ensembles, stores, idx, ends, columns, fixed)[0]
            _set_ends(parsed, idx, s_ends.double().numpy())
        s, path = path_score(ensembles, stores, idx, alphas, columns, fixed)
        (s * torch.as_tensor(weights, dtype=torch.float32)).sum().backward()
        for d, p in path.items():
            parts, desc = p.atom_attributions([vmols[i] for i in idx], settings[d])
            for k, i in enumerate(idx):
                parsed[i].atoms += parts[k]
                parsed[i].descriptors += float(desc[k])
        bar.update(len(idx))
    return result


def _stores(
    smiles: list[str], settings: Mapping[str, dict], threads: int
) -> dict[str, FeatureSource]:
    """Dataset -> features of ``smiles`` with its model's settings (featurized once per distinct
    setting)."""
    by_key: dict[str, FeatureSource] = {}
    stores: dict[str, FeatureSource] = {}
    for d, setting in settings.items():
        key = json.dumps(setting, sort_keys=True)
        if key not in by_key:
            # a FeatureStore is a FeatureSource, but the protocol declares ``n`` as a settable
            # attribute and the store's ``n`` is a read-only property (drugnet.features)
            by_key[key] = cast(FeatureSource, store_from_smiles(smiles, setting, n_jobs=threads))
        stores[d] = by_key[key]
    return stores


def _grid_scores(
    ensembles: Mapping[str, Attributable],
    stores: Mapping[str, FeatureSource],
    columns: Sequence[ObjectiveColumn],
    constants: Callable[[np.ndarray], PathConstants],
    n_atoms: np.ndarray,
    grid: int,
    width: Mapping[str, int],
) -> np.ndarray:
    """``S`` ``[grid + 1, n]`` at ``alpha = k / grid`` for every molecule (forward only)."""
    out = np.empty((grid + 1, len(n_atoms)))
    for idx in molecule_chunks(n_atoms, grid + 1, width["gnn"], width["snn"]):
        on_grid = np.linspace(0.0, 1.0, grid + 1)[:, None].repeat(len(idx), 1)
        with torch.no_grad():
            s = path_score(ensembles, stores, idx, on_grid, columns, constants(idx))[0]
        out[:, idx] = s.double().numpy()
    return out


def _set_ends(parsed: list[Attribution], idx: np.ndarray, s_path: np.ndarray) -> None:
    """``baseline_score`` and ``score`` of molecules ``idx`` from ``S`` at the first and last
    path points (``s_path`` ``[m, len(idx)]``)."""
    for k, i in enumerate(idx):
        parsed[i].baseline_score, parsed[i].score = float(s_path[0, k]), float(s_path[-1, k])
