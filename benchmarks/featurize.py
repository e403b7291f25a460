"""Throughput and memory of standardize + featurize against bare RDKit parsing.

Run from the repository root: ``python benchmarks/featurize.py [--input F] [--limit N]``.
(a) ``Chem.MolFromSmiles`` over the input on one core; (b) what ``drugnet standardize`` and
``drugnet featurize`` run: ``drugnet.chem.curation.standardize_to_files`` (n_jobs) then
``drugnet.features.build.featurize_file`` (n_jobs, the cache written in chunks), for fractions of
the input, each in a fresh process (peak RSS of the process and of its largest worker).
Prints compounds/s, the ratio b/a (target >= 0.25, goal 0.4) and peak RSS per fraction.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = REPO.parent / "shared" / "data" / "moses_test.csv.gz"


def read_smiles(path: Path, limit: int | None) -> pd.DataFrame:
    frame = pd.read_csv(path, nrows=limit, dtype=str)
    column = next(c for c in frame.columns if c.lower() == "smiles")
    return frame.rename(columns={column: "smiles"})[["smiles"]]


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and its finished children."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bare_parse(smiles: list[str]) -> tuple[float, float]:
    """Compounds/s (wall) and CPU microseconds per compound of ``Chem.MolFromSmiles`` on one
    core."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    start, cpu = time.perf_counter(), cpu_seconds()
    for smi in smiles:
        Chem.MolFromSmiles(smi)
    return len(smiles) / (time.perf_counter() - start), (cpu_seconds() - cpu) / len(smiles) * 1e6


def end_to_end(csv: Path, out_dir: Path, n_jobs: int) -> dict:
    """Standardize + featurize ``csv`` into ``out_dir`` (runs in its own process)."""
    from drugnet.chem.curation import standardize_to_files
    from drugnet.features.build import featurize_file

    start, cpu0 = time.perf_counter(), cpu_seconds()
    summary = standardize_to_files(
        csv,
        out_dir / "standardized.csv",
        out_dir / "rejects.csv",
        smiles_column="smiles",
        n_jobs=n_jobs,
    )
    t_std, cpu1 = time.perf_counter() - start, cpu_seconds()
    meta = featurize_file(out_dir / "standardized.csv", out_dir / "features", n_jobs=n_jobs)
    t_total, cpu2 = time.perf_counter() - start, cpu_seconds()
    rows = int(summary["rows_read"])
    kib = 1024  # ru_maxrss is KiB on Linux
    return {
        "rows": rows,
        "unique": int(meta["n"]),
        "standardize_s": round(t_std, 2),
        "featurize_s": round(t_total - t_std, 2),
        "total_s": round(t_total, 2),
        "standardize_cpu_us": round((cpu1 - cpu0) / rows * 1e6),
        "featurize_cpu_us": round((cpu2 - cpu1) / max(1, meta["n"]) * 1e6),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / kib, 1),
        "peak_rss_children_mib": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / kib, 1
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--limit", type=int, help="use only the first N rows")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.25, 1.0])
    parser.add_argument("--_run", type=Path, help=argparse.SUPPRESS)  # internal: one end-to-end run
    args = parser.parse_args(argv)
    if args._run:
        print(json.dumps(end_to_end(args._run, args._run.parent, args.n_jobs)))
        return 0

    frame = read_smiles(args.input, args.limit)
    smiles = frame["smiles"].tolist()
    parse_rate, parse_cpu = bare_parse(smiles)
    print(
        f"input {args.input} rows={len(smiles)}; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    print(
        f"(a) bare Chem.MolFromSmiles, 1 core: {parse_rate:,.0f} compounds/s "
        f"({parse_cpu:.0f} CPU-us/compound)"
    )
    with tempfile.TemporaryDirectory(prefix="drugnet-bench-") as tmp:
        for fraction in args.fractions:
            run_dir = Path(tmp) / f"f{fraction}"
            run_dir.mkdir()
            csv = run_dir / "input.csv"
            frame.iloc[: max(1, round(fraction * len(frame)))].to_csv(csv, index=False)
            proc = subprocess.run(
                [sys.executable, __file__, "--_run", str(csv), "--n-jobs", str(args.n_jobs)],
                capture_output=True,
                text=True,
                cwd=REPO,
                check=True,
            )
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            rate = r["rows"] / r["total_s"]
            print(
                f"(b) {fraction:.0%} rows={r['rows']} unique={r['unique']} "
                f"standardize {r['standardize_s']} s "
                f"({r['rows'] / r['standardize_s']:,.0f}/s) + featurize {r['featurize_s']} s "
                f"({r['unique'] / r['featurize_s']:,.0f}/s) = {rate:,.0f} compounds/s "
                f"(n_jobs={args.n_jobs}); "
                f"ratio b/a {rate / parse_rate:.2f}; peak RSS main {r['peak_rss_mib']} MiB, "
                f"largest worker {r['peak_rss_children_mib']} MiB"
            )
            cpu = r["standardize_cpu_us"] + r["featurize_cpu_us"]
            print(
                f"    CPU-us/compound: standardize {r['standardize_cpu_us']} "
                f"+ featurize {r['featurize_cpu_us']}; "
                f"load-free ratio estimate {args.n_jobs} x {parse_cpu:.0f} / {cpu} "
                f"= {args.n_jobs * parse_cpu / cpu:.2f}; "
                f"load average now {os.getloadavg()[0]:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
