"""Why a compound scored high: integrated-gradients attribution of the campaign ``score`` to atoms,
summarised with the atom-level probing concepts (functional groups and interaction centers).

What is attributed
------------------
The campaign ``score`` ``S`` (``desirability.combined_score``: weighted geometric mean of the
clipped desirabilities of every objective column), seen as a function of the inputs of all
objective models at once. Integrated gradients (IG, Sundararajan et al. 2017) are taken along ONE
joint straight path on which every attributable model's input moves from its baseline to the
molecule with the same ``alpha``::

    phi_j = (x_j - x0_j) * integral_0^1 dS/dx_j (x0 + alpha (x - x0)) d alpha

``S`` along the path is computed exactly as ``combined_score`` does, with the same function
(``desirability.score_torch``, float64): each objective column is its dataset's ensemble mean
passed through the model's calibration map, with the spread of the calibrated members as its std,
then shrunk toward the training prevalence with the molecule's ``ad_weight`` (held fixed: the
similarity to the training set is a property of the molecule, not of the path), mapped to a
desirability and combined by the campaign's ``ranking`` (``mean``, ``lcb`` or ``expected``).
Property objectives are constants with respect to the atoms (held at the molecule's value).
So the chain rule ``dS/dx = sum_t dS/dy_t * dy_t/dx`` is applied at every point of the path, not
linearised at the molecule: by IG's completeness all attributions sum to ``S(x) - S(baseline)``
(up to quadrature error) however non-linear the geometric mean is, and an objective whose
desirability is near the floor does not blow the attributions up (a linearisation
``sum_t dS/dy_t(x) * IG(y_t)`` multiplies by ``S / d_t``). Attributions are in score units.

Objectives whose model cannot be differentiated (``rf_ecfp`` random forests, or datasets without a
model directory) are held constant at the molecule's predicted value (the ``frame`` column) along
the path: they scale the attributions but receive none. A warning is logged once per call for each.
With no attributable objective both columns are empty.

Baselines and inputs
--------------------
* GNN: the input is the atom-feature matrix; the baseline is the SAME graph with all atom features
  zero (an "element-less" molecule). Bond features and the bond graph (and the descriptor vector
  of a GNN trained with descriptors) are held fixed at the molecule's values, so they get no
  attribution. An atom's attribution is the sum of IG over its feature dimensions.
* SNN: IG is taken on each member's scaled input (the output of its ``FeatureScaler``: log1p
  counts, imputation, standardisation, clipping, sparse-bit mask), i.e. on the MLP that follows.
  Baseline: the scaled value of a zero ECFP count vector (no substructure present) and zero for the
  scaled descriptors (= the training mean of every descriptor). Members' attributions are summed
  (the ensemble mean's 1/k is inside ``S``). An ECFP bit's attribution is split equally over its
  occurrences in the molecule (RDKit Morgan ``bitInfo`` of the same generator, radius and size as
  the model's featurisation), each occurrence's share equally over the atoms of its environment
  (centre atom plus the atoms of the bonds within the radius). Descriptor inputs cannot be mapped
  to atoms: their summed attribution is one molecule-level entry of ``explanation`` and is left out
  of ``explanation_atoms``.
* Quadrature (:func:`adaptive_nodes`): a forward-only pass evaluates ``S`` at ``PATH_GRID + 1``
  evenly spaced points of the path; the ``steps`` gradient evaluations are then spread as a
  composite Gauss-Legendre rule, one node per grid interval plus the rest in proportion to the
  interval's ``|Delta S|``. A confident classifier makes ``S`` a sharp step along the path, which a
  single global rule of the same size integrates poorly. All nodes of a chunk of molecules run as
  one replicated batch (models in eval mode, parameters frozen, CPU).

Output columns (see :func:`explain_frame`)
------------------------------------------
``explanation_atoms``: ``"idx:+0.0123;idx:-0.0045"`` -- RDKit atom index of
``Chem.MolFromSmiles(smiles)``, a colon, the signed attribution (score units, always with its sign,
:data:`DECIMALS` decimals); entries joined by ``;`` and sorted by atom index; only atoms with
``|phi| >= MIN_ATOM_SHARE * max |phi|`` that are non-zero after rounding. Empty when nothing could
be attributed. Parse with :data:`ATOMS_PATTERN` / :func:`parse_explanation_atoms`.

``explanation``: entries ``"<sign> <name> [<atoms>] <value>"`` joined by ``"; "``, e.g.
``"+ carboxylic acid (fr_COO2) [7,8,9] +0.3100; - H-bond donor (Donor) [3] -0.0800"``:

* up to :data:`MAX_ENTRIES` concept occurrences (:func:`concept_instances`: each match of a
  functional-group SMARTS, each RDKit interaction-center feature), or ``atom N (El)`` for an atom
  that no concept covers. ``<name>`` is a readable name followed by the probing concept's id (as
  in the probe atlas) in parentheses; ``<atoms>`` the occurrence's atoms; ``<value>`` the sum of
  their attributions and ``<sign>`` its sign. Chosen greedily so that synonyms (fr_COO2,
  CarboxylicAcid, NegIonizable on the same atoms) do not fill the list: each step takes the
  candidate maximising ``|sum of phi over its not yet covered atoms| / sqrt(number of those
  atoms)`` (prefers a specific group over a large generic one carrying the same mass; ties: fewer
  atoms, then catalogue order) and stops when that marginal ``|sum|`` is below
  :data:`MIN_ENTRY_SHARE` of the molecule's ``sum |phi|``. Listed by ``|value|`` descending;
  entries may share atoms.
* then ``"<sign> other atoms (<n>) <value>"`` (no atom list): the atoms in no listed entry, when
  their sum is not negligible (diffuse attributions, e.g. large peptides);
* then ``"<sign> molecular descriptors (not atom-mapped) <value>"`` (no atom list) when the SNN's
  descriptor inputs carry a non-negligible share.

Parse entries with :data:`ENTRY_PATTERN`. 2-point pharmacophores are not used: their atoms are the
union of feature pairs anywhere in the molecule and explain nothing locally.

Strings are deterministic for the same rows (in the same order), models and ``threads`` (fixed
chunking, fixed-precision formatting).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

from drugnet.screening.desirability import ObjectiveColumn, expand_objectives
from drugnet.screening.score import DatasetModel, campaign_ranking

log = logging.getLogger("drugnet.screening")

#: Gauss-Legendre nodes per IG path (see docs/explanations.md for the cost/accuracy measurements).
DEFAULT_IG_STEPS = 16
#: Model kinds whose inputs can be attributed.
ATTRIBUTABLE_KINDS = ("gnn", "snn")
#: At most this many concept/atom entries in ``explanation``.
MAX_ENTRIES = 5
#: Decimals of every attribution written (score units).
DECIMALS = 4
#: ``explanation_atoms`` keeps atoms with ``|phi| >= MIN_ATOM_SHARE * max |phi|`` of the molecule.
MIN_ATOM_SHARE = 0.01
#: An ``explanation`` entry must add at least this share of the molecule's ``sum |phi|``.
MIN_ENTRY_SHARE = 0.05
#: Intervals of the forward-only pass that places the IG nodes (:func:`adaptive_nodes`).
PATH_GRID = 8
#: Replicated atoms (atoms x steps) per forward pass, bounds memory of the GNN graphs (~0.1 MB/atom).
NODE_BUDGET = 12_000
#: Replicated molecules (molecules x steps) per forward pass.
ROW_BUDGET = 2_048

#: One ``explanation`` entry (entries are joined by ``"; "``).
ENTRY_PATTERN = re.compile(
    r"(?P<sign>[+-]) (?P<name>[^\[\];]+?)(?: \[(?P<atoms>\d+(?:,\d+)*)\])? (?P<value>[+-]\d+\.\d{" + str(DECIMALS) + "})"
)
#: One ``explanation_atoms`` entry (entries are joined by ``";"``).
ATOMS_PATTERN = re.compile(r"(?P<idx>\d+):(?P<value>[+-]\d+\.\d{" + str(DECIMALS) + "})")
DESCRIPTOR_ENTRY = "molecular descriptors (not atom-mapped)"
REST_ENTRY = "other atoms"


# --------------------------------------------------------------------------------------------
# readable concept names
# --------------------------------------------------------------------------------------------

_FRAGMENT_NAMES = {
    "fr_C=O": "carbonyl", "fr_C=O_noCOO": "carbonyl, not acid", "fr_Al_OH": "aliphatic hydroxyl",
    "fr_Ar_OH": "aromatic hydroxyl", "fr_methoxy": "methoxy", "fr_oxime": "oxime", "fr_ester": "ester",
    "fr_Al_COO": "aliphatic carboxylic acid", "fr_Ar_COO": "aromatic carboxylic acid",
    "fr_COO": "carboxylic acid", "fr_COO2": "carboxylic acid", "fr_ketone": "ketone",
    "fr_ether": "ether oxygen", "fr_phenol": "phenol", "fr_aldehyde": "aldehyde",
    "fr_quatN": "quaternary nitrogen", "fr_NH2": "NH2 nitrogen", "fr_NH1": "NH nitrogen",
    "fr_NH0": "N without H", "fr_Ar_N": "aromatic nitrogen", "fr_Ar_NH": "aromatic NH",
    "fr_aniline": "aniline", "fr_Imine": "imine", "fr_nitrile": "nitrile", "fr_hdrzine": "hydrazine",
    "fr_hdrzone": "hydrazone", "fr_nitroso": "nitroso", "fr_N-O": "hydroxylamine", "fr_nitro": "nitro",
    "fr_azo": "azo", "fr_diazo": "diazo", "fr_azide": "azide", "fr_amide": "amide",
    "fr_priamide": "primary amide", "fr_amidine": "amidine", "fr_guanido": "guanidine",
    "fr_Nhpyrrole": "pyrrole NH", "fr_imide": "imide", "fr_isocyan": "isocyanate",
    "fr_isothiocyan": "isothiocyanate", "fr_thiocyan": "thiocyanate", "fr_halogen": "halogen",
    "fr_alkyl_halide": "alkyl halide", "fr_sulfide": "thioether", "fr_SH": "thiol",
    "fr_C=S": "thiocarbonyl", "fr_sulfone": "sulfone", "fr_sulfonamd": "sulfonamide",
    "fr_prisulfonamd": "primary sulfonamide", "fr_barbitur": "barbiturate", "fr_urea": "urea",
    "fr_term_acetylene": "terminal alkyne", "fr_imidazole": "imidazole", "fr_furan": "furan",
    "fr_thiophene": "thiophene", "fr_thiazole": "thiazole", "fr_oxazole": "oxazole",
    "fr_pyridine": "pyridine", "fr_piperdine": "piperidine", "fr_piperzine": "piperazine",
    "fr_morpholine": "morpholine", "fr_lactam": "beta-lactam", "fr_lactone": "lactone",
    "fr_tetrazole": "tetrazole", "fr_epoxide": "epoxide", "fr_unbrch_alkane": "unbranched alkyl chain",
    "fr_bicyclic": "ring-fusion atoms", "fr_benzene": "benzene ring", "fr_phos_acid": "phosphoric acid",
    "fr_phos_ester": "phosphoric ester", "fr_nitro_arom": "nitroarene",
    "fr_nitro_arom_nonortho": "non-ortho nitroarene", "fr_dihydropyridine": "dihydropyridine",
    "fr_phenol_noOrthoHbond": "phenol, no ortho H-bond", "fr_Al_OH_noTert": "non-tertiary aliphatic hydroxyl",
    "fr_benzodiazepine": "benzodiazepine", "fr_para_hydroxylation": "para-hydroxylation site",
    "fr_allylic_oxid": "allylic oxidation site", "fr_aryl_methyl": "aryl methyl site",
    "fr_Ndealkylation1": "N-dealkylation site", "fr_Ndealkylation2": "tertiary alicyclic amine",
    "fr_alkyl_carbamate": "alkyl carbamate", "fr_ketone_Topliss": "ketone, Topliss",
    "fr_ArN": "N-group on aromatic", "fr_HOCCN": "HO-C-C-N motif",
}

_HIERARCHY_NAMES = {
    "AcidChloride": "acid chloride", "AcidChloride.Aromatic": "aromatic acid chloride",
    "AcidChloride.Aliphatic": "aliphatic acid chloride", "CarboxylicAcid": "carboxylic acid",
    "CarboxylicAcid.Aromatic": "aromatic carboxylic acid", "CarboxylicAcid.Aliphatic": "aliphatic carboxylic acid",
    "CarboxylicAcid.AlphaAmino": "alpha-amino acid", "SulfonylChloride": "sulfonyl chloride",
    "SulfonylChloride.Aromatic": "aromatic sulfonyl chloride", "SulfonylChloride.Aliphatic": "aliphatic sulfonyl chloride",
    "Amine": "amine", "Amine.Primary": "primary amine", "Amine.Primary.Aromatic": "primary aromatic amine",
    "Amine.Primary.Aliphatic": "primary aliphatic amine", "Amine.Secondary": "secondary amine",
    "Amine.Secondary.Aromatic": "secondary aromatic amine", "Amine.Secondary.Aliphatic": "secondary aliphatic amine",
    "Amine.Tertiary": "tertiary amine", "Amine.Tertiary.Aromatic": "tertiary aromatic amine",
    "Amine.Tertiary.Aliphatic": "tertiary aliphatic amine", "Amine.Aromatic": "aromatic amine",
    "Amine.Aliphatic": "aliphatic amine", "Amine.Cyclic": "cyclic amine", "BoronicAcid": "boronic acid",
    "BoronicAcid.Aromatic": "aromatic boronic acid", "BoronicAcid.Aliphatic": "aliphatic boronic acid",
    "Isocyanate": "isocyanate", "Isocyanate.Aromatic": "aromatic isocyanate",
    "Isocyanate.Aliphatic": "aliphatic isocyanate", "Alcohol": "alcohol", "Alcohol.Aromatic": "aromatic alcohol",
    "Alcohol.Aliphatic": "aliphatic alcohol", "Aldehyde": "aldehyde", "Aldehyde.Aromatic": "aromatic aldehyde",
    "Aldehyde.Aliphatic": "aliphatic aldehyde", "Halogen": "halogen", "Halogen.Aromatic": "aryl halide",
    "Halogen.Aliphatic": "alkyl halide", "Halogen.NotFluorine": "Cl/Br/I halogen",
    "Halogen.NotFluorine.Aliphatic": "alkyl Cl/Br/I", "Halogen.NotFluorine.Aromatic": "aryl Cl/Br/I",
    "Halogen.Bromine": "bromine", "Halogen.Bromine.Aliphatic": "alkyl bromide",
    "Halogen.Bromine.Aromatic": "aryl bromide", "Halogen.Bromine.BromoKetone": "bromoketone",
    "Azide": "azide", "Azide.Aromatic": "aryl azide", "Azide.Aliphatic": "alkyl azide", "Nitro": "nitro",
    "Nitro.Aromatic": "aromatic nitro", "Nitro.Aliphatic": "aliphatic nitro", "TerminalAlkyne": "terminal alkyne",
}

_INTERACTION_NAMES = {
    "Donor": "H-bond donor", "Acceptor": "H-bond acceptor", "NegIonizable": "negative ionizable",
    "PosIonizable": "positive ionizable", "ZnBinder": "zinc binder", "Aromatic": "aromatic ring",
    "Hydrophobe": "hydrophobe", "LumpedHydrophobe": "lumped hydrophobe",
}

def concept_display_name(name: str, family: str) -> str:
    """``"<readable name> (<probing concept id>)"``, e.g. ``"carboxylic acid (fr_COO)"``."""
    if family == "interaction_center":
        readable = _INTERACTION_NAMES.get(name)
    else:
        readable = _FRAGMENT_NAMES.get(name) or _HIERARCHY_NAMES.get(name)
    text = f"{readable} ({name})" if readable else name
    return re.sub(r"[\[\];]", "_", text)


def concept_instances(mol: Chem.Mol) -> list[tuple[str, tuple[int, ...]]]:
    """Every occurrence of an atom-level probing concept in ``mol`` as ``(display name, atoms)``:
    one entry per match of each functional-group SMARTS (``functional_group_patterns``, fr_* then
    the RDKit hierarchy) and per feature of RDKit's ``BaseFeatures.fdef`` interaction centers, in
    that order, duplicates (same concept, same atoms) removed. 2-point pharmacophores are not
    used: their atoms are unions of feature pairs that can lie anywhere in the molecule."""
    from drugnet.concepts.functional_groups import functional_group_patterns
    from drugnet.concepts.interaction_centers import feature_factory

    out: list[tuple[str, tuple[int, ...]]] = []
    seen: set[tuple[str, tuple[int, ...]]] = set()

    def add(name: str, atoms: Sequence[int]) -> None:
        key = (name, tuple(sorted(int(a) for a in atoms)))
        if key[1] and key not in seen:
            seen.add(key)
            out.append(key)

    for group, query in functional_group_patterns():
        for match in mol.GetSubstructMatches(query, maxMatches=1000):
            add(concept_display_name(group.name, "functional_group"), match)
    for feat in feature_factory().GetFeaturesForMol(mol):
        add(concept_display_name(feat.GetFamily(), "interaction_center"), feat.GetAtomIds())
    return out


# --------------------------------------------------------------------------------------------
# integrated gradients of the score
# --------------------------------------------------------------------------------------------


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


def gauss_legendre(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes in (0, 1) and weights (summing to 1) of the ``steps``-point Gauss-Legendre rule."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    nodes, weights = np.polynomial.legendre.leggauss(int(steps))
    return (nodes + 1.0) / 2.0, weights / 2.0


@dataclass
class PathConstants:
    """What stays fixed along the IG path: the values and desirability stds of the columns without
    an attributable model (``[b, n_columns]``; properties, rf_ecfp), each dataset's domain weight
    ``w`` ``[b]`` (ranked.csv ``ad_weight``; 1 when unknown) and the campaign ranking."""

    values: np.ndarray
    sd: np.ndarray
    weights: dict[str, np.ndarray]
    ranking: str = "mean"


def _column_terms(y: torch.Tensor, sd: torch.Tensor, col: ObjectiveColumn) -> tuple[torch.Tensor, torch.Tensor]:
    """Desirability and its std of one model column in torch (as ``desirability``/``desirability_std``)."""
    if col.task_type == "classification":
        p = y.clamp(0.0, 1.0)
        sd_p = sd
    else:
        p = torch.sigmoid((y - col.mean) / col.std)
        sd_p = p * (1 - p) * sd / col.std
    return (p if col.direction == "maximize" else 1.0 - p), sd_p


def _score_torch(d: Sequence[torch.Tensor], sd: Sequence[torch.Tensor], columns: Sequence[ObjectiveColumn],
                 ranking: str) -> torch.Tensor:
    """``combined_score`` in torch (the same function, :func:`~drugnet.screening.desirability.score_torch`)."""
    from drugnet.screening.desirability import score_torch

    return score_torch(d, sd, columns, ranking)


def _shrink_torch(ensemble: Any, mean: torch.Tensor, std: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`drugnet.inference.calibration.apply_shrinkage` with the molecule's fixed weight ``w`` ``[N]``."""
    shrink = (ensemble.calibration or {}).get("shrinkage")
    if not shrink:
        return mean, std
    pi = torch.as_tensor(shrink["prevalence"], dtype=mean.dtype).view(1, -1)
    w = w.view(-1, 1).to(mean.dtype)
    var = w * std**2 + (1 - w) * pi * (1 - pi) + w * (1 - w) * (mean - pi) ** 2
    return w * mean + (1 - w) * pi, torch.sqrt(var.clamp(min=0.0))


def _to_label_units(out: torch.Tensor, ensemble: Any) -> torch.Tensor:
    if ensemble.task == "classification":
        return torch.sigmoid(out)
    return out * torch.as_tensor(ensemble.target_std, dtype=out.dtype) + torch.as_tensor(ensemble.target_mean, dtype=out.dtype)


class _PathModel:
    """One attributable objective model on the interpolation path of one chunk of molecules."""

    def __init__(self, ensemble: Any, store: Any, idx: np.ndarray, alphas: torch.Tensor) -> None:
        """``alphas`` ``[m, len(idx)]``: the path positions of each molecule."""
        from drugnet.features.dataset import model_inputs

        self.ensemble, (self.m, self.b) = ensemble, alphas.shape
        self.kind = ensemble.kind
        if self.kind == "gnn":
            g = model_inputs(store, idx, "gnn", ensemble.use_descriptors)
            n = g.x.shape[0]
            self.graph, self.x = g, g.x.float()
            shift = torch.arange(self.m).view(-1, 1)
            a = alphas[:, g.batch].unsqueeze(2)  # [m, n_atoms, 1]
            self.leaf = (a * self.x.unsqueeze(0)).reshape(self.m * n, -1).requires_grad_(True)
            self.edge_index = (g.edge_index.unsqueeze(0) + (shift * n).view(-1, 1, 1)).permute(1, 0, 2).reshape(2, -1)
            self.edge_attr = g.edge_attr.repeat(self.m, 1)
            self.batch = (g.batch.unsqueeze(0) + shift * self.b).reshape(-1)
            self.mol_features = None if g.mol_features is None else g.mol_features.repeat(self.m, 1)
        else:
            # The path is linear in the scaled input z and the first layer is linear, so the
            # first layer runs once per molecule: W (z0 + a (z - z0)) + b = A + a B, and
            # dS/dz = W^T dS/dh1 (applied once to the quadrature-weighted sum over steps).
            raw = model_inputs(store, idx, "snn", ensemble.use_descriptors)
            a = alphas.unsqueeze(2)  # [m, b, 1]
            self.n_log = ensemble.members[0].n_count_inputs
            self.delta, self.leaves = [], []
            with torch.no_grad():
                for member in ensemble.members:
                    z = member.scale_inputs(raw)
                    z0 = member.scale_inputs(torch.zeros_like(raw))
                    z0[:, self.n_log :] = 0.0
                    weight = member.first_layer_weight()
                    start, direction = member.first_layer(z0), z @ weight.T - z0 @ weight.T
                    self.delta.append(z - z0)
                    path = start.unsqueeze(0) + a * direction.unsqueeze(0)
                    self.leaves.append(path.reshape(self.m * self.b, -1).requires_grad_(True))

    def predict(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Ensemble mean and std ``[m * b, T]`` (probabilities or label units) along the path,
        calibrated as ``Ensemble.predict`` (before the domain shrinkage)."""
        from drugnet.features.batch import GraphBatch

        outs = []
        for k, member in enumerate(self.ensemble.members):
            if self.kind == "gnn":
                batch = GraphBatch(self.leaf, self.edge_index, self.edge_attr, self.batch, self.m * self.b, self.mol_features)
                out = member(batch)
            else:
                out = member.forward_from_first_layer(self.leaves[k])
            outs.append(_to_label_units(out, self.ensemble))
        stacked = torch.stack(outs).double()  # the score's Beta moments need float64 (near-certain / uninformed)
        calibration = (self.ensemble.calibration or {}).get("map") if self.ensemble.task == "classification" else None
        if calibration:
            from drugnet.inference.calibration import apply_calibration_torch

            mean = apply_calibration_torch(calibration, stacked.mean(0))
            return mean, apply_calibration_torch(calibration, stacked).std(0, unbiased=False)
        return stacked.mean(0), stacked.std(0, unbiased=False)

    def attributions(self) -> tuple[list[np.ndarray], np.ndarray]:
        """After ``backward``: per molecule either per-atom (gnn) or per-ECFP-bit (snn) attributions,
        and the per-molecule descriptor share ``[b]``. Gradients are already quadrature-weighted."""
        if self.kind == "gnn":
            grad = self.leaf.grad.view(self.m, *self.x.shape).sum(0)
            per_atom = (self.x * grad).sum(1).double().numpy()
            bounds = np.concatenate([[0], np.cumsum(np.bincount(self.graph.batch.numpy(), minlength=self.b))])
            return [per_atom[bounds[i] : bounds[i + 1]] for i in range(self.b)], np.zeros(self.b)
        total = None
        for member, delta, leaf in zip(self.ensemble.members, self.delta, self.leaves):
            grad_z = leaf.grad.view(self.m, self.b, -1).sum(0) @ member.first_layer_weight()
            ig = (delta * grad_z).double()
            total = ig if total is None else total + ig
        bits = total[:, : self.n_log].numpy()
        return [bits[i] for i in range(self.b)], total[:, self.n_log :].sum(1).numpy()


def _bit_atoms(mol: Chem.Mol, radius: int, n_bits: int) -> dict[int, list[tuple[int, ...]]]:
    """ECFP bit -> atoms of each of its environments in ``mol`` (same generator as featurization)."""
    from drugnet.features.fingerprints import morgan_generator

    ao = rdFingerprintGenerator.AdditionalOutput()
    ao.AllocateBitInfoMap()
    morgan_generator(radius, n_bits).GetCountFingerprintAsNumPy(mol, additionalOutput=ao)
    out: dict[int, list[tuple[int, ...]]] = {}
    for bit, envs in ao.GetBitInfoMap().items():
        atom_lists = []
        for center, r in envs:
            atoms = {center}
            if r > 0:
                for b in Chem.FindAtomEnvironmentOfRadiusN(mol, r, center, enforceSize=False):
                    bond = mol.GetBondWithIdx(b)
                    atoms.update((bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()))
            atom_lists.append(tuple(sorted(atoms)))
        out[int(bit)] = atom_lists
    return out


def bits_to_atoms(mol: Chem.Mol, bit_attr: np.ndarray, radius: int, n_bits: int) -> np.ndarray:
    """Per-atom attribution from per-bit attribution: a bit's value is split equally over its
    occurrences, each occurrence's share equally over the atoms of its environment."""
    phi = np.zeros(mol.GetNumAtoms())
    envs = _bit_atoms(mol, radius, n_bits)
    for bit in np.flatnonzero(bit_attr):
        occurrences = envs.get(int(bit))
        if not occurrences:  # cannot happen for the model's own featurization; keep the sum honest
            phi += bit_attr[bit] / len(phi)
            continue
        share = bit_attr[bit] / len(occurrences)
        for atoms in occurrences:
            phi[list(atoms)] += share / len(atoms)
    return phi


def adaptive_nodes(s_grid: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-molecule quadrature nodes ``alpha`` ``[steps, b]`` and weights (each column sums to 1)
    for the IG integral over [0, 1], concentrated where the score changes.

    ``s_grid`` ``[K + 1, b]``: ``S`` at ``alpha = k / K`` (a forward-only pass). Composite
    Gauss-Legendre: each of the ``K`` intervals gets ``max(1, steps // 2K)`` nodes (when ``steps >=
    K``; so every interval is refined as ``steps`` grows, even where ``S`` is non-monotone inside
    it) plus a share of the remaining nodes proportional to its ``|Delta S|`` (largest remainders,
    ties to the earlier interval), and a Gauss-Legendre rule of that order on the interval. A confident
    classifier's sigmoid turns ``S`` along the path into a sharp step; a single global rule of the
    same size misses its height by up to 20 % on DrugCentral, this rule by at most ~3 %.
    """
    s_grid = np.asarray(s_grid, dtype=np.float64)
    k, b = s_grid.shape[0] - 1, s_grid.shape[1]
    change = np.abs(np.diff(s_grid, axis=0))
    change[~np.isfinite(change)] = 0.0
    base = max(1, steps // (2 * k)) if steps >= k else 0  # at least half of the nodes spread evenly
    extra = steps - base * k
    alphas, weights = np.empty((steps, b)), np.empty((steps, b))
    for j in range(b):
        total = change[:, j].sum()
        want = extra * (change[:, j] / total if total > 0 else np.full(k, 1.0 / k))
        n = np.floor(want).astype(int)
        n[np.lexsort((np.arange(k), -(want - n)))[: extra - n.sum()]] += 1
        n += base
        pos = 0
        for seg in np.flatnonzero(n):
            u, w = gauss_legendre(int(n[seg]))
            alphas[pos : pos + n[seg], j] = (seg + u) / k
            weights[pos : pos + n[seg], j] = w / k
            pos += n[seg]
    return alphas, weights


def _chunks(n_atoms: np.ndarray, m: int) -> list[np.ndarray]:
    """Consecutive molecule index ranges with ``atoms * m <= NODE_BUDGET`` and ``mols * m <= ROW_BUDGET``."""
    chunks, start, atoms = [], 0, 0
    for i, n in enumerate(n_atoms):
        if i > start and ((atoms + n) * m > NODE_BUDGET or (i - start + 1) * m > ROW_BUDGET):
            chunks.append(np.arange(start, i))
            start, atoms = i, 0
        atoms += int(n)
    if start < len(n_atoms):
        chunks.append(np.arange(start, len(n_atoms)))
    return chunks


def _path_score(
    ensembles: Mapping[str, Any], stores: Mapping[str, Any], idx: np.ndarray, alphas: np.ndarray,
    columns: Sequence[ObjectiveColumn], fixed: PathConstants,
) -> tuple[torch.Tensor, dict[str, _PathModel]]:
    """``S`` ``[m, b]`` at path positions ``alphas`` ``[m, b]`` of molecules ``idx`` (rows of the
    stores); ``fixed``: the constants of the path (rows ``idx`` only)."""
    from drugnet.screening.desirability import desirability

    a = torch.as_tensor(alphas, dtype=torch.float32)
    m = a.shape[0]
    path = {d: _PathModel(e, stores[d], idx, a) for d, e in ensembles.items()}
    preds = {}
    for d, p in path.items():
        w = torch.as_tensor(fixed.weights.get(d, np.ones(len(idx))), dtype=torch.float64).repeat(m)
        preds[d] = _shrink_torch(ensembles[d], *p.predict(), w)
    ds, sds = [], []
    for j, col in enumerate(columns):
        if col.dataset in preds:
            t = list(ensembles[col.dataset].targets).index(col.target)
            d_j, sd_j = _column_terms(preds[col.dataset][0][:, t], preds[col.dataset][1][:, t], col)
        else:
            d_j = torch.as_tensor(desirability(fixed.values[:, j], col), dtype=torch.float64).repeat(m)
            sd_j = torch.as_tensor(fixed.sd[:, j], dtype=torch.float64).repeat(m)
        ds.append(d_j)
        sds.append(sd_j)
    return _score_torch(ds, sds, columns, fixed.ranking).view(a.shape), path


def attribute_score(
    smiles: Sequence[str],
    columns: Sequence[ObjectiveColumn],
    values: np.ndarray,
    ensembles: Mapping[str, Any],
    steps: int = DEFAULT_IG_STEPS,
    threads: int = 1,
    grid: int = PATH_GRID,
    sd: np.ndarray | None = None,
    domain_weights: Mapping[str, np.ndarray] | None = None,
    ranking: str = "mean",
) -> list[Attribution | None]:
    """IG attribution of the campaign score (see module docstring) for each SMILES.

    ``columns``: the campaign's objective columns (``expand_objectives``); ``values`` ``[n,
    len(columns)]``: the predicted objective values, used for the columns whose dataset has no
    entry in ``ensembles`` (held constant); ``ensembles``: dataset -> attributable ``Ensemble``
    (kind gnn or snn). ``steps`` gradient evaluations per molecule, placed by
    :func:`adaptive_nodes` from a forward-only pass over ``grid + 1`` evenly spaced points
    (``grid=0``: plain Gauss-Legendre). ``sd`` ``[n, len(columns)]``: desirability stds of the
    held-constant columns (default 0); ``domain_weights``: dataset -> ``ad_weight`` ``[n]`` (default
    1); ``ranking``: the campaign's. Returns ``None`` for unparsable SMILES.
    """
    from drugnet.features.build import store_from_smiles
    from drugnet.inference.prediction import feature_settings_of
    from drugnet.io.progress import progress

    values = np.asarray(values, dtype=np.float64).reshape(len(smiles), len(columns))
    sd = np.zeros_like(values) if sd is None else np.asarray(sd, dtype=np.float64).reshape(values.shape)
    domain_weights = {d: np.asarray(w, dtype=np.float64) for d, w in (domain_weights or {}).items()}
    mols = [Chem.MolFromSmiles(s) if isinstance(s, str) and s else None for s in smiles]
    rows = np.flatnonzero([m is not None and m.GetNumAtoms() > 0 for m in mols])
    result: list[Attribution | None] = [None] * len(smiles)
    for i in rows:
        result[i] = Attribution(np.zeros(mols[i].GetNumAtoms()))
    if not len(rows) or not ensembles:
        return result
    vmols = [mols[i] for i in rows]
    settings = {d: feature_settings_of(e) for d, e in ensembles.items()}
    by_key: dict[str, Any] = {}
    stores: dict[str, Any] = {}
    for d in ensembles:  # featurize once per distinct setting
        key = json.dumps(settings[d], sort_keys=True)
        if key not in by_key:
            by_key[key] = store_from_smiles([smiles[i] for i in rows], settings[d], n_jobs=threads)
        stores[d] = by_key[key]

    grid = min(grid, steps)  # at least one node per grid interval
    bar = progress(len(rows), "explain", "molecules")
    for idx in _chunks(np.array([m.GetNumAtoms() for m in vmols]), max(steps, grid + 1)):
        fixed = PathConstants(values[rows[idx]], sd[rows[idx]],
                              {d: w[rows[idx]] for d, w in domain_weights.items()}, ranking)
        if grid > 0:
            with torch.no_grad():
                on_grid = np.linspace(0.0, 1.0, grid + 1)[:, None].repeat(len(idx), 1)
                s_grid = _path_score(ensembles, stores, idx, on_grid, columns, fixed)[0].double().numpy()
            alphas, weights = adaptive_nodes(s_grid, steps)
        else:
            nodes, w = gauss_legendre(steps)
            alphas, weights = nodes[:, None].repeat(len(idx), 1), w[:, None].repeat(len(idx), 1)
            with torch.no_grad():
                s_grid = _path_score(ensembles, stores, idx, np.array([[0.0], [1.0]]).repeat(len(idx), 1), columns, fixed)[0].double().numpy()
        s, path = _path_score(ensembles, stores, idx, alphas, columns, fixed)
        (s * torch.as_tensor(weights, dtype=torch.float32)).sum().backward()
        for d, p in path.items():
            parts, desc = p.attributions()
            radius, n_bits = int(settings[d].get("radius", 2)), int(settings[d].get("n_bits", 2048))
            for k, i in enumerate(idx):
                att = result[rows[i]]
                att.atoms += parts[k] if p.kind == "gnn" else bits_to_atoms(vmols[i], parts[k], radius, n_bits)
                att.descriptors += float(desc[k])
        for k, i in enumerate(idx):
            result[rows[i]].baseline_score, result[rows[i]].score = float(s_grid[0, k]), float(s_grid[-1, k])
        bar.update(len(idx))
    bar.close()
    return result


# --------------------------------------------------------------------------------------------
# strings
# --------------------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    text = f"{value:+.{DECIMALS}f}"
    return "+" + text[1:] if float(text) == 0.0 else text  # no "-0.0000"


def format_atoms(phi: np.ndarray) -> str:
    """``explanation_atoms``: ``"idx:+0.0123;..."`` for non-negligible atoms, by index."""
    phi = np.asarray(phi, dtype=np.float64)
    if not len(phi) or not np.all(np.isfinite(phi)):
        return ""
    cut = MIN_ATOM_SHARE * float(np.abs(phi).max())
    parts = []
    for i, v in enumerate(phi):
        text = _fmt(v)
        if abs(v) >= cut and float(text) != 0.0:
            parts.append(f"{i}:{text}")
    return ";".join(parts)


def describe(mol: Chem.Mol, phi: np.ndarray, descriptors: float = 0.0,
             instances: Sequence[tuple[str, Sequence[int]]] | None = None) -> str:
    """``explanation`` of one molecule (see module docstring) from per-atom ``phi``, the
    descriptor share and the concept occurrences (default: :func:`concept_instances`)."""
    phi = np.asarray(phi, dtype=np.float64)
    if not np.all(np.isfinite(phi)) or not math.isfinite(descriptors):
        return ""
    n = len(phi)
    instances = concept_instances(mol) if instances is None else instances
    labels = [name for name, _ in instances]
    sets = np.zeros((n, len(instances) + n), dtype=bool)
    for c, (_, atoms) in enumerate(instances):
        sets[list(atoms), c] = True
    uncovered = np.flatnonzero(~sets.any(axis=1))  # single atoms no concept covers
    sets = sets[:, : len(instances) + len(uncovered)]
    sets[uncovered, len(instances) + np.arange(len(uncovered))] = True
    labels += [f"atom {a} ({mol.GetAtomWithIdx(int(a)).GetSymbol()})" for a in uncovered]
    total = float(np.abs(phi).sum())
    floor = max(MIN_ENTRY_SHARE * total, 0.5 * 10.0**-DECIMALS)
    covered = np.zeros(n, dtype=bool)
    chosen: list[int] = []
    sizes = sets.sum(0)
    for _ in range(MAX_ENTRIES if sets.shape[1] else 0):
        open_sets = sets & ~covered[:, None]
        count = open_sets.sum(0)
        gain = np.abs(np.where(open_sets, phi[:, None], 0.0).sum(0))
        key = np.where(count > 0, gain / np.sqrt(np.maximum(count, 1)), -1.0)
        key[chosen] = -1.0
        best = int(np.lexsort((np.arange(len(key)), sizes, -key))[0])  # key desc, fewer atoms, catalogue order
        if key[best] < 0 or gain[best] < floor:
            break
        chosen.append(best)
        covered |= sets[:, best]
    entries = []
    for c in chosen:
        atoms = np.flatnonzero(sets[:, c])
        value = _fmt(float(phi[atoms].sum()))
        entries.append((-abs(float(value)), len(entries), f"{value[0]} {labels[c]} [{','.join(map(str, atoms))}] {value}"))
    out = [e[2] for e in sorted(entries)]
    rest = ~covered
    if rest.any() and abs(float(phi[rest].sum())) >= floor:
        value = _fmt(float(phi[rest].sum()))
        out.append(f"{value[0]} {REST_ENTRY} ({int(rest.sum())}) {value}")
    if abs(descriptors) >= max(MIN_ENTRY_SHARE * (total + abs(descriptors)), 0.5 * 10.0**-DECIMALS):
        value = _fmt(descriptors)
        out.append(f"{value[0]} {DESCRIPTOR_ENTRY} {value}")
    return "; ".join(out)


def parse_explanation_atoms(text: str) -> dict[int, float]:
    """``{atom index: attribution}`` from an ``explanation_atoms`` string (inverse of :func:`format_atoms`)."""
    if not text:
        return {}
    out = {}
    for part in text.split(";"):
        match = ATOMS_PATTERN.fullmatch(part)
        if match is None:
            raise ValueError(f"not an explanation_atoms entry: {part!r}")
        out[int(match["idx"])] = float(match["value"])
    return out


# --------------------------------------------------------------------------------------------
# frame API
# --------------------------------------------------------------------------------------------


def load_attributable(models: Sequence[DatasetModel], threads: int = 1) -> dict[str, Any]:
    """Dataset -> loaded ensemble for every model that can be attributed (gnn, snn); a warning
    for each other one (its objectives are held constant, see module docstring)."""
    from drugnet.inference.checkpoint import load_model_dir

    out: dict[str, Any] = {}
    for dm in models:
        if dm.model_dir is None:
            log.warning("explanations: %s has no model directory; its objectives are not attributed", dm.dataset)
            continue
        kind = json.loads((dm.model_dir / "model.json").read_text()).get("kind")
        if kind not in ATTRIBUTABLE_KINDS:
            log.warning("explanations: %s model %s is %s, which cannot be attributed (only %s); its objectives "
                        "are held constant", dm.dataset, dm.model_dir, kind, "/".join(ATTRIBUTABLE_KINDS))
            continue
        ensemble = load_model_dir(dm.model_dir, threads=threads)
        for member in ensemble.members:  # gradients are needed for the inputs only
            member.requires_grad_(False)
        out[dm.dataset] = ensemble
    return out


def _frame_constants(frame: pd.DataFrame, columns: Sequence[ObjectiveColumn], values: np.ndarray):
    """Desirability stds ``[n, n_columns]`` (from ``<column>.std``) and the datasets' ``ad_weight``
    columns of a ranked frame (missing columns: std 0, weight 1)."""
    from drugnet.screening.desirability import desirability_std
    from drugnet.screening.score import ad_weight_column

    sd = np.column_stack([
        desirability_std(values[:, j], pd.to_numeric(frame[f"{c.column}.std"], errors="coerce").to_numpy(np.float64)
                         if f"{c.column}.std" in frame.columns else None, c)
        for j, c in enumerate(columns)])
    datasets = list(dict.fromkeys(c.dataset for c in columns if c.kind == "model"))
    weights = {}
    for i, dataset in enumerate(datasets):
        name = ad_weight_column(dataset, primary=i == 0)
        if name in frame.columns:
            weights[dataset] = pd.to_numeric(frame[name], errors="coerce").fillna(1.0).to_numpy(np.float64)
    return sd, weights


def explain_frame(
    frame: pd.DataFrame,
    campaign: Mapping[str, Any],
    models: Sequence[DatasetModel],
    threads: int = 1,
    steps: int = DEFAULT_IG_STEPS,
) -> pd.DataFrame:
    """``explanation`` and ``explanation_atoms`` (str, ``""`` when nothing is attributable) for
    every row of ``frame`` (columns ``id``, ``smiles`` and the objective columns
    ``<dataset>.<target>``), same index. Formats and method: module docstring and docs/explanations.md.
    """
    out = pd.DataFrame({"explanation": "", "explanation_atoms": ""}, index=frame.index, dtype=object)
    if not len(frame):
        return out
    columns = expand_objectives(campaign["objectives"], {m.dataset: m.task_info for m in models})
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        used = {c.dataset for c in columns}
        ensembles = load_attributable([m for m in models if m.dataset in used], threads=threads)
        if not ensembles:
            return out
        smiles = frame["smiles"].astype(str).tolist()
        values = np.column_stack([pd.to_numeric(frame[c.column], errors="coerce").to_numpy(np.float64) for c in columns])
        sd, weights = _frame_constants(frame, columns, values)
        attributions = attribute_score(smiles, columns, values, ensembles, steps=steps, threads=threads, sd=sd,
                                       domain_weights=weights, ranking=campaign_ranking(campaign))
    finally:
        torch.set_num_threads(previous)
    explanation, atoms_text = [""] * len(frame), [""] * len(frame)
    for i, att in enumerate(attributions):
        if att is None:
            continue
        atoms_text[i] = format_atoms(att.atoms)
        if atoms_text[i] or att.descriptors:
            explanation[i] = describe(Chem.MolFromSmiles(smiles[i]), att.atoms, att.descriptors)
    out["explanation"] = explanation
    out["explanation_atoms"] = atoms_text
    return out
