"""Structural-alert matching: the pattern-fingerprint screen (``drugnet.chem.substructure_screen``)
against RDKit's ``FilterCatalog.GetMatches`` on the PAINS A/B/C + Brenk catalog the screening
``alerts`` property and annotations use. Prints both costs per molecule (one core, CPU time), their
ratio, and fails (exit 1) if any molecule gets different matches.

    python benchmarks/alerts.py --input ../shared/data/moses_test.csv.gz --limit 20000
    python benchmarks/alerts.py --input data/drugcentral_structures.tsv.gz --smiles-column SMILES
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import pandas as pd
from rdkit import Chem, RDLogger

from drugnet.screening.annotate import alert_catalog, alert_screen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True)
    parser.add_argument("--smiles-column", default=None, help="default: first column")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    RDLogger.DisableLog("rdApp.*")
    sep = "\t" if ".tsv" in args.input else ","
    frame = pd.read_csv(args.input, sep=sep, nrows=args.limit)
    column = args.smiles_column or frame.columns[0]
    mols = [Chem.MolFromSmiles(s) for s in frame[column] if isinstance(s, str)]
    mols = [m for m in mols if m is not None]
    catalog, screen = alert_catalog(), alert_screen()
    start = time.process_time()
    expected = [sorted(e.GetDescription() for e in catalog.GetMatches(m)) for m in mols]
    plain = time.process_time() - start
    start = time.process_time()
    got = [sorted(e.GetDescription() for e in screen.matches(m)) for m in mols]
    screened = time.process_time() - start
    differ = sum(a != b for a, b in zip(expected, got, strict=True))
    print(f"{args.input}: {len(mols):,} molecules, {sum(map(bool, expected)):,} with an alert")
    print(f"FilterCatalog.GetMatches: {plain / len(mols) * 1e3:.3f} CPU-ms/molecule")
    print(f"pattern-screened matches: {screened / len(mols) * 1e3:.3f} CPU-ms/molecule")
    print(f"speed-up {plain / screened:.2f}x; molecules with different matches: {differ}")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
