"""Real-molecule fixtures for the screening tests."""

import pandas as pd
import pytest

from helpers.paths import DATA


@pytest.fixture(scope="session")
def bace_head() -> pd.DataFrame:
    """First 120 BACE compounds: ``id``, ``smiles``, ``Class``."""
    frame = pd.read_csv(DATA / "bace.csv.gz", nrows=120)
    return pd.DataFrame(
        {
            "id": [f"bace{i:04d}" for i in range(len(frame))],
            "smiles": frame["mol"],
            "Class": frame["Class"],
        }
    )


@pytest.fixture(scope="session")
def esol_head() -> pd.DataFrame:
    """First 80 ESOL compounds: ``id``, ``smiles``, ``log_solubility``."""
    frame = pd.read_csv(DATA / "esol_delaney.csv.gz", nrows=80)
    return pd.DataFrame(
        {
            "id": [f"esol{i:03d}" for i in range(len(frame))],
            "smiles": frame["smiles"],
            "log_solubility": frame["log_solubility"],
        }
    )
