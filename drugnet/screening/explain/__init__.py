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
With no attributable objective both columns are empty. A ``consensus`` is on the path through its
gnn and snn components (:mod:`~drugnet.screening.explain.consensus_path`): each takes the path with
its own inputs, the consensus rule combines them in torch, its forests are held at their
predictions.

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
be attributed, or when ``S`` moves by less than ``SCORE_RESOLUTION`` along the path (a molecule
outside every model's domain: no gradient pass is run for it). Parse with :data:`ATOMS_PATTERN` /
:func:`parse_explanation_atoms`.

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

Modules
-------
:mod:`~drugnet.screening.explain.frame` (:func:`explain_frame`, the entry point of the rank step)
uses :mod:`~drugnet.screening.explain.integrated_gradients` (the score along the joint path,
:func:`attribute_score`), whose consensus path is
:mod:`~drugnet.screening.explain.consensus_path` and whose per-model paths are
:mod:`~drugnet.screening.explain.gnn` and :mod:`~drugnet.screening.explain.snn` (on
:mod:`~drugnet.screening.explain.path_model`; the SNN's bits reach atoms through
:mod:`~drugnet.screening.explain.bits`) and whose nodes come from
:mod:`~drugnet.screening.explain.quadrature`; the strings are written by
:mod:`~drugnet.screening.explain.text` from the concepts of
:mod:`~drugnet.screening.explain.concepts`.
"""

from drugnet.screening.explain.bits import bits_to_atoms
from drugnet.screening.explain.concepts import concept_display_name, concept_instances
from drugnet.screening.explain.frame import explain_frame, load_attributable
from drugnet.screening.explain.integrated_gradients import (
    ATTRIBUTABLE_KINDS,
    Attribution,
    attribute_score,
)
from drugnet.screening.explain.quadrature import (
    DEFAULT_IG_STEPS,
    PATH_GRID,
    adaptive_nodes,
    gauss_legendre,
)
from drugnet.screening.explain.text import (
    ATOMS_PATTERN,
    DECIMALS,
    DESCRIPTOR_ENTRY,
    ENTRY_PATTERN,
    MAX_ENTRIES,
    MIN_ATOM_SHARE,
    MIN_ENTRY_SHARE,
    REST_ENTRY,
    describe,
    format_atoms,
    parse_explanation_atoms,
)

__all__ = [
    "ATOMS_PATTERN",
    "ATTRIBUTABLE_KINDS",
    "DECIMALS",
    "DEFAULT_IG_STEPS",
    "DESCRIPTOR_ENTRY",
    "ENTRY_PATTERN",
    "MAX_ENTRIES",
    "MIN_ATOM_SHARE",
    "MIN_ENTRY_SHARE",
    "PATH_GRID",
    "REST_ENTRY",
    "Attribution",
    "adaptive_nodes",
    "attribute_score",
    "bits_to_atoms",
    "concept_display_name",
    "concept_instances",
    "describe",
    "explain_frame",
    "format_atoms",
    "gauss_legendre",
    "load_attributable",
    "parse_explanation_atoms",
]
