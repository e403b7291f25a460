"""Cost of parts of the screen's score step, for the drugnet that is importable (run it with
``PYTHONPATH=<a worktree of an older commit>`` for that commit's numbers; CPU time, one process
unless said):

- the default campaign's six property objectives (``property_values``), per compound, and the wall
  time with ``--threads`` worker processes;
- with ``--check-qed``: the ``qed`` column against RDKit's ``QED.qed`` on every molecule (exit 1
  on any difference);
- the applicability domain's ``max_tanimoto`` of the input against ``--train`` (its ``smiles``
  column), checked against RDKit ``BulkTanimotoSimilarity`` on the first 200 queries;
- loading the forest file ``--forest`` (``load_forest``).

    python benchmarks/score_parts.py --input ../shared/data/moses_test.csv.gz --limit 6000 \\
        --train results/tox21/standardized.csv --forest results/tox21/models/rf_ecfp/member_0.npz
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd
from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import QED, rdFingerprintGenerator

from drugnet.features.tanimoto import ecfp4_bits, max_tanimoto
from drugnet.models.forest_io import load_forest
from drugnet.screening.properties import property_values

DEFAULT_PROPERTIES = ["mw", "qed", "clogp", "tpsa", "hbd", "alerts"]


def cpu(fn):
    start = time.process_time()
    out = fn()
    return out, time.process_time() - start


def properties(smiles: list[str], threads: int) -> pd.DataFrame:
    frame, seconds = cpu(lambda: property_values(smiles, DEFAULT_PROPERTIES))
    print(f"property_values, 1 process: {seconds / len(smiles) * 1e6:,.0f} CPU-us per compound")
    if threads > 1:
        start = time.perf_counter()
        parallel = property_values(smiles, DEFAULT_PROPERTIES, threads=threads)
        print(f"property_values, {threads} processes: {time.perf_counter() - start:.1f} s wall")
        pd.testing.assert_frame_equal(frame, parallel)
    return frame


def qed_differences(smiles: list[str], frame: pd.DataFrame) -> int:
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    rdkit_qed = np.array([QED.qed(m) if m is not None else np.nan for m in mols])
    ours = frame["qed"].to_numpy()
    differ = int((~((rdkit_qed == ours) | (np.isnan(rdkit_qed) & np.isnan(ours)))).sum())
    print(f"qed vs QED.qed: {differ} of {len(smiles)} molecules differ")
    return differ


def domain(smiles: list[str], train_smiles: list[str]) -> None:
    query, train = ecfp4_bits(smiles), ecfp4_bits(train_smiles)
    (best, arg), seconds = cpu(lambda: max_tanimoto(query, train))
    print(f"max_tanimoto {len(query):,} x {len(train):,}: {seconds:.2f} CPU-s")
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    ref = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in train_smiles]
    for i, s in enumerate(smiles[:200]):
        sims = DataStructs.BulkTanimotoSimilarity(gen.GetFingerprint(Chem.MolFromSmiles(s)), ref)
        if max(sims) != best[i] or int(np.argmax(sims)) != arg[i]:
            raise SystemExit(f"max_tanimoto differs from RDKit on query {i}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="CSV(.gz) with a SMILES column")
    parser.add_argument("--smiles-column", default="SMILES")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--check-qed", action="store_true")
    parser.add_argument("--train", help="standardized.csv whose smiles are the domain's reference")
    parser.add_argument("--forest", help="an rf_ecfp member_*.npz")
    args = parser.parse_args()
    RDLogger.DisableLog("rdApp.*")
    smiles = pd.read_csv(args.input, nrows=args.limit)[args.smiles_column].astype(str).tolist()
    print(f"{len(smiles):,} compounds; load average {os.getloadavg()[0]:.2f}")
    frame = properties(smiles, args.threads)
    failed = args.check_qed and qed_differences(smiles, frame) > 0
    if args.train:
        domain(smiles, pd.read_csv(args.train)["smiles"].astype(str).tolist())
    if args.forest:
        _, seconds = cpu(lambda: load_forest(args.forest))
        print(f"load_forest {os.path.basename(args.forest)}: {seconds:.2f} CPU-s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
