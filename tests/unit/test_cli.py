"""The command-line entry point (``drugnet <step>``)."""

from __future__ import annotations

from threadpoolctl import threadpool_info, threadpool_limits

from drugnet.cli import main as cli_main
from helpers.paths import FIXTURES


def test_declared_threads_bound_blas_and_openmp_pools(tmp_path):
    """Snakemake packs jobs by their declared threads, so ``--threads 1`` must bound every native
    thread pool of the process (BLAS, OpenMP), not only torch's."""
    with threadpool_limits(2):
        code = cli_main(
            [
                "standardize",
                str(FIXTURES / "messy.csv"),
                "--output",
                str(tmp_path / "s.csv"),
                "--rejects",
                str(tmp_path / "r.csv"),
                "--summary",
                str(tmp_path / "s.json"),
                "--id-column",
                "compound_id",
                "--threads",
                "1",
            ]
        )
        assert code == 0
        pools = threadpool_info()
        assert pools and all(pool["num_threads"] == 1 for pool in pools), pools
