"""Applicability domain: nearest training compound by ECFP4 Tanimoto, with packed-bit popcounts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from drugnet.features.tanimoto import max_tanimoto

#: Default similarity threshold for ``in_domain``. With ECFP4/2048 bits, random drug-like pairs
#: sit around 0.1-0.2 Tanimoto and the 0.3-0.4 band is where close analogues (shared scaffold,
#: similar activity) start (Maggiora et al. 2014; Jasial et al. 2016), so below 0.35 to every
#: training compound a prediction is an extrapolation.
DEFAULT_AD_THRESHOLD = 0.35


def domain_columns(
    query_fps: np.ndarray,
    train_fps: np.ndarray,
    train_ids: Sequence[str],
    threshold: float = DEFAULT_AD_THRESHOLD,
) -> pd.DataFrame:
    """``ad_similarity``, ``nearest_train_id``, ``in_domain`` (similarity >= threshold) per
    query."""
    sim, arg = max_tanimoto(query_fps, train_fps)
    ids = np.asarray(list(train_ids), dtype=object)
    nearest = np.where(arg >= 0, ids[np.clip(arg, 0, None)] if len(ids) else "", "")
    return pd.DataFrame(
        {
            "ad_similarity": sim,
            "nearest_train_id": nearest.astype(str),
            "in_domain": sim >= threshold,
        }
    )
