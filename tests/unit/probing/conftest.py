"""Shared real-molecule fixtures for probing tests."""

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from helpers.paths import DATA

ESOL = str(DATA / "esol_delaney.csv.gz")


@pytest.fixture(scope="session")
def esol_mols():
    """The first 300 parsable ESOL molecules (real, varied, small)."""
    smiles = pd.read_csv(ESOL)["smiles"].tolist()
    mols = [m for m in (Chem.MolFromSmiles(s) for s in smiles) if m is not None]
    return mols[:300]


@pytest.fixture()
def rng():
    return np.random.default_rng(0)
