import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from drugnet.features.tanimoto import _sparse_bits, ecfp4_bits, max_tanimoto, pack_bits
from drugnet.screening.domain import DEFAULT_AD_THRESHOLD, domain_columns


def rdkit_reference(query_smiles, train_smiles):
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    train = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in train_smiles]
    sims = [
        DataStructs.BulkTanimotoSimilarity(gen.GetFingerprint(Chem.MolFromSmiles(s)), train)
        for s in query_smiles
    ]
    return np.array([max(s) for s in sims]), np.array([int(np.argmax(s)) for s in sims])


@pytest.mark.parametrize("block_elements", [1, 333, 4_000_000])
def test_max_tanimoto_matches_rdkit_bulk(bace_head, esol_head, block_elements):
    query, train = esol_head["smiles"].tolist(), bace_head["smiles"].tolist()
    best, arg = max_tanimoto(ecfp4_bits(query), ecfp4_bits(train), block_elements=block_elements)
    ref_best, ref_arg = rdkit_reference(query, train)
    np.testing.assert_allclose(best, ref_best, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(arg, ref_arg)


def test_self_similarity_and_domain_columns(bace_head):
    fps = ecfp4_bits(bace_head["smiles"])
    cols = domain_columns(fps[:10], fps, bace_head["id"], threshold=DEFAULT_AD_THRESHOLD)
    assert cols["ad_similarity"].tolist() == [1.0] * 10
    assert cols["in_domain"].all()
    # duplicates in the training set resolve to the first index
    assert cols["nearest_train_id"].tolist()[0] == bace_head["id"].iloc[0]


def test_unparsable_and_empty_inputs():
    fps = ecfp4_bits(["not a smiles", "CCO", None])
    assert fps.shape == (3, 32) and fps[0].sum() == 0 and fps[2].sum() == 0
    best, arg = max_tanimoto(fps[:1], fps[1:2])
    assert best[0] == 0.0
    best, arg = max_tanimoto(fps, fps[:0])
    assert (arg == -1).all() and (best == 0).all()


def test_sparse_training_bits_built_in_row_blocks_equal_the_bits(bace_head):
    """The training fingerprints' sparse matrix, unpacked a few rows at a time (an empty
    fingerprint among them), has exactly the fingerprints' bits."""
    fps = ecfp4_bits(["CCO", "not a smiles", *bace_head["smiles"].tolist()[:20]])
    dense = np.unpackbits(fps.view(np.uint8), axis=1)
    for rows in (1, 3, 8_192):
        matrix = _sparse_bits(fps, np.int16, rows=rows)
        np.testing.assert_array_equal(matrix.toarray(), dense)
    assert dense[1].sum() == 0 and dense.sum(axis=1).min() == 0


def test_max_tanimoto_with_more_training_rows_than_bits(bace_head):
    """Query blocks bounded by the training size (n_train > 2,048 bits) give the same maxima."""
    train = np.repeat(ecfp4_bits(bace_head["smiles"]), 60, axis=0)[::-1]
    assert len(train) > 2048
    query = ecfp4_bits(bace_head["smiles"].tolist()[:7])
    best, arg = max_tanimoto(query, train, block_elements=3 * len(train))
    assert best.tolist() == [1.0] * 7
    # ties take the lowest index: the first copy of each compound in the reversed training set
    expected = [len(train) - 60 * (i + 1) for i in range(7)]
    assert arg.tolist() == expected


def test_pack_bits_roundtrip_counts():
    rng = np.random.default_rng(0)
    bits = rng.random((5, 128)) < 0.3
    packed = pack_bits(bits)
    assert packed.dtype == np.uint64 and packed.shape == (5, 2)
    assert np.array_equal(np.bitwise_count(packed).sum(1), bits.sum(1))
