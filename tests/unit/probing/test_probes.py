"""Linear probes: planted signal, noise, molecule-grouped splits, bootstrap and control task."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from drugnet.concepts import interaction_centers
from drugnet.concepts.matrix import subsample_atoms
from drugnet.probing import probes


@pytest.fixture(scope="module")
def atom_concepts(esol_mols):
    matrix = interaction_centers.concept_labels(esol_mols, level="atom")
    return matrix.take_items(subsample_atoms(matrix.item_mol, 4, seed=0))


@pytest.fixture(scope="module")
def split(esol_mols, atom_concepts):
    is_test_mol = probes.split_molecules(
        probes.scaffold_groups(esol_mols), test_fraction=0.3, seed=0
    )
    return is_test_mol, is_test_mol[atom_concepts.item_mol]


def test_split_keeps_scaffolds_and_molecules_together(esol_mols, atom_concepts, split):
    is_test_mol, is_test_item = split
    groups = probes.scaffold_groups(esol_mols)
    for g in np.unique(groups):
        assert len(set(is_test_mol[groups == g])) == 1
    train_mols = set(atom_concepts.item_mol[~is_test_item])
    test_mols = set(atom_concepts.item_mol[is_test_item])
    assert not train_mols & test_mols and test_mols and train_mols
    atom_split = np.arange(len(is_test_item)) % 2 == 0  # splitting atoms, not molecules
    with pytest.raises(ValueError, match="both sides"):
        probes.probe_layers(
            [np.zeros((len(is_test_item), 2))], atom_concepts, atom_split, network="trained"
        )


def test_planted_dimension_gives_auc_near_one_and_noise_near_half(atom_concepts, split, rng):
    _, is_test_item = split
    n = len(atom_concepts.item_mol)
    noise = rng.normal(size=(n, 16))
    planted = noise.copy()
    planted[:, 3] = atom_concepts.values[:, atom_concepts.names.index("Aromatic")]
    table = probes.probe_layers(
        [noise, planted],
        atom_concepts.select([atom_concepts.names.index("Aromatic")]),
        is_test_item,
        network="trained",
        n_boot=300,
    )
    noise_row, planted_row = table.iloc[0], table.iloc[1]
    assert planted_row.auc > 0.99
    assert noise_row.ci_low < 0.5 < noise_row.ci_high
    assert abs(noise_row.auc - 0.5) < 0.1
    assert list(table.columns) == probes.PROBE_COLUMNS
    assert planted_row.n_pos + planted_row.n_neg == is_test_item.sum()


def test_control_task_is_near_chance_on_a_planted_representation(atom_concepts, split):
    _, is_test_item = split
    keep = [atom_concepts.names.index(c) for c in ("Aromatic", "Hydrophobe", "Acceptor")]
    concepts = atom_concepts.select(keep)
    representation = concepts.values.astype(float)  # the true labels, perfectly decodable
    control = probes.control_task_concepts(concepts, seed=0)
    table = probes.probe_layers(
        [representation], control, is_test_item, network="control_task", n_boot=300
    )
    assert (table.auc.sub(0.5).abs() < 0.1).all(), table
    trained = probes.probe_layers(
        [representation], concepts, is_test_item, network="trained", n_boot=50
    )
    assert (trained.auc > 0.99).all()


def test_control_permutation_moves_whole_molecules_of_equal_size(atom_concepts):
    item_mol = atom_concepts.item_mol
    donor = probes.control_permutation(item_mol, seed=3)
    sizes = np.bincount(item_mol)
    assert (sizes[item_mol[donor]] == sizes[item_mol]).all()
    # items of one molecule all come from one donor molecule, in order
    for m in np.unique(item_mol)[:50]:
        donors = donor[item_mol == m]
        assert len(set(item_mol[donors])) == 1 and (np.diff(donors) == 1).all()
    assert sorted(donor.tolist()) == list(range(len(item_mol)))
    assert (item_mol[donor] != item_mol).mean() > 0.5


def _sorted_auc(scores, labels, weights):
    """Reference: the item-level sort-and-cumulate Mann-Whitney AUC per weight column (float64)."""
    order = np.argsort(scores, kind="stable")
    s, pos, w = scores[order], labels[order], weights[order].astype(np.float64)
    out = []
    for col in w.T:
        below = np.concatenate([[0.0], np.cumsum(np.where(pos, 0.0, col))])
        num = sum(
            col[i]
            * (
                below[np.searchsorted(s, s[i], "left")]
                + 0.5
                * (
                    below[np.searchsorted(s, s[i], "right")]
                    - below[np.searchsorted(s, s[i], "left")]
                )
            )
            for i in np.flatnonzero(pos)
        )
        out.append(num / (col[pos].sum() * below[-1]) if col[pos].sum() and below[-1] else np.nan)
    return np.array(out)


def test_bootstrap_auc_equals_weighted_auc(rng):
    scores = rng.integers(0, 15, 400).astype(float)  # ties on purpose
    labels = rng.random(400) < 0.3
    mols = rng.integers(0, 80, 400)  # a molecule's items scattered over the array
    counts, item_row = probes.molecule_bootstrap(mols, n_boot=5, seed=1)
    weights = counts[item_row]
    ours = probes.weighted_auc(scores, labels, counts, item_row)
    ref = [roc_auc_score(labels, scores, sample_weight=w) for w in weights.T]
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    # the same weights given per item
    np.testing.assert_array_equal(ours, probes.weighted_auc(scores, labels, weights))
    # a molecule's items are drawn together
    for w in weights.T:
        for m in np.unique(mols):
            assert len(set(w[mols == m])) == 1


def test_grouped_auc_is_bit_identical_to_the_item_level_computation(rng):
    """Pair counts summed per molecule and matrix products in float32 (integer bootstrap counts)
    must give the AUCs of the float64 item-level sort bit for bit, ties and molecules with
    positive and negative items included; weights too large for exact float32 sums fall back to
    float64."""
    scores = rng.integers(0, 40, 900).astype(float)
    labels = rng.random(900) < 0.3
    mols = rng.permutation(np.arange(900) // 3)
    counts, item_row = probes.molecule_bootstrap(mols, n_boot=40, seed=2)
    ours = probes.weighted_auc(scores, labels, counts, item_row)
    np.testing.assert_array_equal(ours, _sorted_auc(scores, labels, counts[item_row]))
    pairs = np.ones((5, 5))
    assert probes._gemm_dtype(pairs, counts, 900) is np.float32
    assert probes._gemm_dtype(pairs, counts * 4096, 900) is np.float64
    assert probes._gemm_dtype(pairs, counts + np.float32(0.5), 900) is np.float64
    huge = counts * 300
    np.testing.assert_array_equal(
        probes.weighted_auc(scores, labels, huge, item_row),
        _sorted_auc(scores, labels, huge[item_row]),
    )


def test_weighted_auc_without_positives_or_negatives_is_nan():
    counts = np.ones((3, 4), dtype=np.float32)
    assert np.isnan(probes.weighted_auc(np.arange(3.0), np.ones(3, bool), counts)).all()
    counts[0, 1] = 0  # resample 1 draws no negative
    out = probes.weighted_auc(np.arange(3.0), np.array([False, True, True]), counts)
    assert np.isnan(out[1]) and out[0] == 1.0


def test_batched_probes_match_sklearn(rng):
    x = rng.normal(size=(300, 10))
    y = np.stack(
        [x[:, 0] + rng.normal(size=300) > 0, x[:, 1] - x[:, 2] + rng.normal(size=300) > 1], axis=1
    )
    ours = probes.fit_probes_batched(
        x, y, x, C=0.1, tol=1e-9, max_iter=2000
    )  # same objective, converged
    for c in range(2):
        ref = (
            LogisticRegression(C=0.1, tol=1e-10, max_iter=10_000)
            .fit(x, y[:, c])
            .decision_function(x)
        )
        np.testing.assert_allclose(ours[:, c], ref, atol=2e-3)  # float32 L-BFGS
