"""Screening throughput and memory: a library ranked end to end by drugnet vs ``chemprop predict``.

drugnet's real pipeline steps run as the workflow runs them, each a ``drugnet`` process:

1. ``drugnet standardize`` the library (unique neutral parents, InChIKey merge, rejects);
2. ``drugnet screen score`` in ``--shards`` jobs, one after the other (predictions of the
   campaign's model, applicability domain against its training set, the campaign score; each
   shard written in rank order);
3. ``drugnet screen rank`` (k-way merge of the shards, annotation and Butina clustering of the
   best ``--annotate-top``, top list, SDF).

The campaign maximizes one objective, ``<dataset>.<target>``, with the trained model
``<results-dir>/<dataset>/models/<model>`` (default: the BACE GNN of the default run); with
``--campaign NAME`` it is that campaign of ``--config`` as a user gets it (``bace_safe``, the
default campaign: both datasets' best models, the property objectives, ``expected`` ranking,
explanations of every annotated row), over the benchmark's library.
Chemprop (2.x, side venv, see ``benchmarks/train.py --setup``) predicts the same input file
with a model trained on the same BACE data for a few epochs (``--chemprop-train-epochs``;
trained once into the work folder when ``--chemprop-model`` is not given; not timed).

Per step: wall time and peak RSS of its largest process (``wait4`` rusage; worker processes
are counted on their own, not summed), and the peak of the summed RSS of the process tree
sampled every 0.2 s (counts pages shared by forked workers more than once, so an upper bound).

    python benchmarks/screen.py --library ../shared/data/moses_test.csv.gz  # 176k vs chemprop
    python benchmarks/screen.py --campaign bace_safe --explain-cost  # the same, default settings
    python benchmarks/screen.py --library train.csv.gz --limit 100000 --no-chemprop  # memory, 100k
    python benchmarks/screen.py --library train.csv.gz --no-chemprop  # memory, 1.58M
    python benchmarks/screen.py --limit 20000 --no-chemprop --explain-cost  # explanation share
    python benchmarks/screen.py --device cuda  # GPU scoring

``--explain-cost`` runs the rank step a second time with ``explain_top: 0`` (no integrated
gradients) and prints the difference: the explanation cost of the rank step, and its share of
drugnet's wall time. ``--device`` is passed to ``drugnet screen score`` (default cpu; ``cuda`` on
a GPU machine prints the GPU rate; it fails with a clear message when there is no CUDA device).

``--standardized FILE`` reuses the ``standardized.csv`` of an earlier run (the standardize step is
then not run or reported). ``--synthetic-scores`` replaces the score step by a stand-in that
writes shards of the same layout with pseudo-random scores and AD columns (sorted in rank order,
like ``drugnet screen score`` writes them) in seconds, to measure ``drugnet screen rank`` on a
library too large to score in the time available; its numbers are labelled as such.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHEMPROP = Path("/tmp/chemprop-venv/bin/chemprop")


class Step:
    """One timed subprocess: wall seconds, peak RSS of its largest process, peak tree RSS sum."""

    def __init__(self, name: str, cmd: list[str], log: Path, env: dict[str, str] | None = None):
        self.name, self.cmd, self.log = name, [str(c) for c in cmd], log
        self.env = env
        self.seconds = self.max_rss_mib = self.tree_rss_mib = float("nan")

    def run(self) -> Step:
        import psutil

        peak = [0]
        with open(self.log, "w") as log:
            start = time.perf_counter()
            proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env)
            done = threading.Event()

            def sample() -> None:
                while not done.is_set():
                    try:
                        root = psutil.Process(proc.pid)
                        total = sum(
                            p.memory_info().rss for p in [root, *root.children(recursive=True)]
                        )
                        peak[0] = max(peak[0], total)
                    except psutil.Error:
                        pass
                    done.wait(0.2)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            _, status, usage = os.wait4(proc.pid, 0)
            self.seconds = time.perf_counter() - start
            done.set()
            sampler.join()
            proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            tail = self.log.read_text()[-3000:]
            raise RuntimeError(
                f"{self.name} failed ({proc.returncode}): {' '.join(self.cmd)}\n{tail}"
            )
        self.max_rss_mib = usage.ru_maxrss / 1024
        self.tree_rss_mib = peak[0] / 2**20
        print(
            f"  {self.name:<14} {self.seconds:8.1f} s   peak RSS {self.max_rss_mib:6.0f} MiB "
            f"(process tree sum {self.tree_rss_mib:6.0f} MiB)",
            flush=True,
        )
        return self


def write_input(library: Path, smiles_column: str, limit: int | None, out: Path) -> int:
    """The first ``limit`` rows of ``library`` as a plain CSV with a ``smiles`` column (Chemprop
    reads no .gz); returns the number of rows."""
    opener = gzip.open if library.suffix == ".gz" else open
    n = 0
    with opener(library, "rt") as src, open(out, "w") as dst:
        header = src.readline().rstrip("\n").split(",")
        if header != [smiles_column]:
            raise SystemExit(
                f"{library}: expected a single {smiles_column!r} column, got {header[:5]}"
            )
        dst.write("smiles\n")
        for line in src:
            if limit is not None and n >= limit:
                break
            dst.write(line)
            n += 1
    return n


def synthetic_shards(
    standardized: Path, shards: list[Path], train_ids: list[str], seed: int = 0
) -> None:
    """Shard CSVs with the columns of a one-objective campaign and pseudo-random values, each in
    rank order (written run by run, then merged, as ``drugnet screen score`` does)."""
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(REPO))
    from drugnet.screening.ordering import merge_ranked_csvs, sort_by_rank

    rng = np.random.default_rng(seed)
    runs: list[list[Path]] = [[] for _ in shards]
    blocks = pd.read_csv(
        standardized,
        usecols=["id", "smiles", "n_merged"],
        dtype={"id": str, "smiles": str},
        chunksize=65_536,
    )
    for k, block in enumerate(blocks):
        n = len(block)
        score = rng.random(n)
        similarity = rng.random(n)
        frame = pd.DataFrame(
            {
                "id": block["id"].to_numpy(),
                "smiles": block["smiles"].to_numpy(),
                "n_merged": block["n_merged"].to_numpy(),
                "score": score,
                "bace.Class": score,
                "bace.Class.std": rng.random(n) / 10,
                "ad_similarity": similarity,
                "nearest_train_id": np.asarray(train_ids, dtype=object)[
                    rng.integers(0, len(train_ids), n)
                ],
                "in_domain": similarity >= 0.35,
            }
        )
        owner = k % len(shards)
        run = shards[owner].with_name(f"{shards[owner].name}.run{k}")
        sort_by_rank(frame).to_csv(run, index=False)
        runs[owner].append(run)
    header = (
        "id,smiles,n_merged,score,bace.Class,bace.Class.std,"
        "ad_similarity,nearest_train_id,in_domain"
    )
    for shard, parts in zip(shards, runs, strict=False):
        if parts:
            merge_ranked_csvs(parts, shard)
        else:
            shard.write_text(header + "\n")
        for part in parts:
            part.unlink()


def train_chemprop(chemprop: Path, work: Path, epochs: int, threads: int) -> Path:
    """A Chemprop D-MPNN (defaults: hidden 300, depth 3) trained on the bundled BACE set."""
    data = work / "bace.csv"
    with gzip.open(REPO / "data" / "bace.csv.gz", "rt") as src:
        data.write_text(src.read())
    out = work / "chemprop_model"
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    subprocess.run(
        [
            str(chemprop),
            "train",
            "-i",
            str(data),
            "-s",
            "mol",
            "--target-columns",
            "Class",
            "-t",
            "classification",
            "--epochs",
            str(epochs),
            "--num-workers",
            "0",
            "--accelerator",
            "cpu",
            "--devices",
            "1",
            "-o",
            str(out),
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    return min(out.rglob("best*.pt"))


def bench_campaign(args: argparse.Namespace) -> dict:
    """The benchmark's campaign over the input library: ``--campaign`` takes a campaign of
    ``--config`` as a user gets it (defaults applied; only the library replaced), otherwise one
    objective ``<dataset>.<target>`` scored by ``--model``."""
    if args.campaign:
        sys.path.insert(0, str(REPO))
        from drugnet.config import load_config

        campaigns = load_config(args.config)["campaigns"]
        if args.campaign not in campaigns:
            raise SystemExit(f"--campaign: {args.campaign!r} is not a campaign of {args.config}")
        campaign = {**campaigns[args.campaign], "library": "bench"}
    else:
        campaign = {
            "library": "bench",
            "model": args.model,
            "top_n": 100,
            "annotate_top": 10_000,
            "filters": {"max_alerts": 0, "in_domain_only": False},
            "objectives": [
                {"dataset": args.dataset, "target": args.target, "direction": "maximize"}
            ],
        }
    if args.annotate_top is not None:
        campaign["annotate_top"] = args.annotate_top
    if args.explain_top is not None or "explain_top" not in campaign:
        campaign["explain_top"] = args.explain_top
    return campaign


def best_of_options(args: argparse.Namespace, campaign: dict) -> list[str]:
    """``--best-of`` as the workflow passes it: a ``--campaign`` with ``model: best`` chooses among
    each objective dataset's configured ``model.models`` only."""
    if not args.campaign or campaign["model"] != "best":
        return []
    from drugnet.config import load_config, model_settings

    config = load_config(args.config)
    datasets = dict.fromkeys(o["dataset"] for o in campaign["objectives"] if "dataset" in o)
    return [f"--best-of={ds}={','.join(model_settings(config, ds)['models'])}" for ds in datasets]


def describe_campaign(args: argparse.Namespace, campaign: dict) -> str:
    """``bace.Class (gnn)``, or ``bace_safe: model best; bace.Class, tox21.all + 6 properties``."""
    if not args.campaign:
        return f"{args.dataset}.{args.target} ({args.model})"
    models = [f"{o['dataset']}.{o['target']}" for o in campaign["objectives"] if "dataset" in o]
    n_properties = sum("property" in o for o in campaign["objectives"])
    return (
        f"{args.campaign}: model {campaign['model']}; {', '.join(models)}"
        f" + {n_properties} properties, ranking {campaign.get('ranking', 'default')}"
    )


def parameter_counts(
    model_dir: Path | None, chemprop_model: Path | None, chemprop: Path
) -> tuple[str, str]:
    """Sizes of drugnet's model (``""`` when ``model_dir`` is None: a campaign's models) and of
    Chemprop's."""
    ours = ""
    if model_dir is not None:
        sys.path.insert(0, str(REPO))
        from drugnet.inference.checkpoint import load_model_dir

        ensemble = load_model_dir(model_dir)
        sizes = (
            [sum(p.numel() for p in m.parameters()) for m in ensemble.members]
            if ensemble.kind != "rf_ecfp"
            else []
        )
        ours = (
            f"{ensemble.kind}, {len(ensemble.members)} members x {sizes[0]:,} parameters"
            if sizes
            else ensemble.kind
        )
    theirs = ""
    if chemprop_model is not None:
        code = (
            "import torch,sys; d=torch.load(sys.argv[1],map_location='cpu',weights_only=False); "
            "sd=d.get('state_dict',d); print(sum(v.numel() for v in sd.values() "
            "if hasattr(v,'numel') and v.dtype.is_floating_point))"
        )
        python = chemprop.parent / "python"
        count = subprocess.run(
            [str(python), "-c", code, str(chemprop_model)],
            check=False,
            capture_output=True,
            text=True,
        )
        theirs = (
            f"D-MPNN, 1 model x {int(count.stdout.strip()):,} parameters"
            if count.returncode == 0
            else "?"
        )
    return ours, theirs


def explanation_cost(
    campaign: dict, work: Path, rank_cmd: list, rank: Step, total: float, env: dict[str, str]
) -> dict[str, float]:
    """Time the rank step again without explanations (``explain_top: 0``); print the difference."""
    plain_json = work / "campaign_no_explain.json"
    plain_json.write_text(json.dumps({**campaign, "explain_top": 0}))
    plain = Step(
        "rank, explain_top 0",
        [*rank_cmd, "--campaign-json", plain_json, "--output-dir", work / "screen_no_explain"],
        work / "rank_no_explain.log",
        env,
    ).run()
    cost = rank.seconds - plain.seconds
    print(
        f"explanations: {cost:.1f} s of the rank step's {rank.seconds:.1f} s; "
        f"{cost / total:.0%} of drugnet's "
        f"{total:.1f} s (target <= 25 %); load average now {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    return {
        "rank_no_explain_seconds": plain.seconds,
        "explain_seconds": cost,
        "explain_share": cost / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--library",
        default=str(REPO.parent / "shared" / "data" / "moses_test.csv.gz"),
        help="CSV(.gz) with one SMILES column (MOSES layout)",
    )
    parser.add_argument("--smiles-column", default="SMILES")
    parser.add_argument("--limit", type=int, default=None, help="only the first N rows")
    parser.add_argument(
        "--workdir", default=None, help="scratch folder (default: a new folder under /tmp)"
    )
    parser.add_argument(
        "--results-dir", default=str(REPO / "results"), help="holds <dataset>/models/<model>"
    )
    parser.add_argument("--dataset", default="bace")
    parser.add_argument("--target", default="Class")
    parser.add_argument("--model", default="gnn")
    parser.add_argument(
        "--campaign",
        default=None,
        help=(
            "use this campaign of --config as a user runs it (model, objectives, ranking, "
            "filters, annotate_top, explain_top; e.g. bace_safe, the default campaign) over "
            "--library, instead of --dataset/--target/--model"
        ),
    )
    parser.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument(
        "--annotate-top", type=int, default=None, help="default: the campaign's (10,000)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-chemprop", action="store_true")
    parser.add_argument("--chemprop", default=str(CHEMPROP))
    parser.add_argument(
        "--chemprop-model", default=None, help="a Chemprop .pt (default: train one on BACE)"
    )
    parser.add_argument("--chemprop-train-epochs", type=int, default=3)
    parser.add_argument(
        "--standardized", default=None, help="reuse this standardized.csv (no standardize step)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help=(
            "reuse standardized.csv and shard_*.csv already in --workdir (those steps are not run)"
        ),
    )
    parser.add_argument(
        "--synthetic-scores",
        action="store_true",
        help="stand-in score step with pseudo-random scores (to time the rank step at scale)",
    )
    parser.add_argument(
        "--device", default="cpu", help="torch device of the score step: cpu, cuda, cuda:N, auto"
    )
    parser.add_argument(
        "--explain-top",
        type=int,
        default=None,
        help="campaign explain_top (default: null = annotate_top, the campaign default)",
    )
    parser.add_argument(
        "--explain-cost",
        action="store_true",
        help="also time the rank step with explain_top 0; print the explanation cost",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--json", default=None, help="append the results as one JSON line to this file"
    )
    args = parser.parse_args()

    import tempfile

    work = Path(args.workdir or tempfile.mkdtemp(prefix="screen-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    drugnet = [str(Path(sys.executable).parent / "drugnet")]
    threads = str(args.threads)
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    try:
        library = work / "library.csv"
        n = write_input(Path(args.library), args.smiles_column, args.limit, library)
        campaign = bench_campaign(args)
        best_of = best_of_options(args, campaign)
        campaign_json = work / "campaign.json"
        campaign_json.write_text(json.dumps(campaign))
        print(
            f"{n:,} compounds from {args.library}; "
            f"campaign {describe_campaign(args, campaign)}, "
            f"{args.shards} shard(s), annotate_top {campaign['annotate_top']}, "
            f"explain_top {campaign['explain_top']}, "
            f"{args.threads} threads, score device {args.device}; "
            f"load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        steps = []
        if args.standardized or (args.resume and (work / "standardized.csv").exists()):
            std = Path(args.standardized or work / "standardized.csv")
            print(f"  (reusing {std})")
        else:
            std = work / "standardized.csv"
            steps.append(
                Step(
                    "standardize",
                    [
                        *drugnet,
                        "standardize",
                        library,
                        "--output",
                        std,
                        "--rejects",
                        work / "rejects.csv",
                        "--summary",
                        work / "summary.json",
                        "--smiles-column",
                        "smiles",
                        "--threads",
                        threads,
                    ],
                    work / "standardize.log",
                    env,
                ).run()
            )
        common = [
            "--campaign-json",
            campaign_json,
            "--library",
            std,
            "--results-dir",
            args.results_dir,
            *best_of,
        ]
        shards = [work / f"shard_{i}.csv" for i in range(args.shards)]
        if args.synthetic_scores:
            import pandas as pd

            split = pd.read_csv(Path(args.results_dir) / args.dataset / "split.csv", dtype=str)
            start = time.perf_counter()
            synthetic_shards(std, shards, split.loc[split["split"] == "train", "id"].tolist())
            print(
                f"  (synthetic shards written in {time.perf_counter() - start:.1f} s; "
                "not a drugnet step)"
            )
        for i, shard in enumerate([] if args.synthetic_scores else shards):
            if args.resume and shard.exists():
                print(f"  (reusing {shard})")
                continue
            steps.append(
                Step(
                    f"score {i}/{args.shards}",
                    [
                        *drugnet,
                        "screen",
                        "score",
                        *common,
                        "--shard",
                        str(i),
                        "--n-shards",
                        str(args.shards),
                        "--output",
                        shard,
                        "--threads",
                        threads,
                        "--device",
                        args.device,
                    ],
                    work / f"score_{i}.log",
                    env,
                ).run()
            )
        steps.append(
            Step(
                "rank",
                [
                    *drugnet,
                    "screen",
                    "rank",
                    *common,
                    "--inputs",
                    *shards,
                    "--output-dir",
                    work / "screen",
                    "--threads",
                    threads,
                ],
                work / "rank.log",
                env,
            ).run()
        )
        ours = sum(s.seconds for s in steps)
        label = (
            "drugnet (standardize + score + rank)"
            if len(steps) == 2 + args.shards
            else (
                f"drugnet ({', '.join(s.name for s in steps)}"
                + (", synthetic scores" if args.synthetic_scores else "")
                + ")"
            )
        )
        with open(work / "screen" / "ranked.csv") as ranked:
            n_ranked = sum(1 for _ in ranked) - 1
        print(
            f"{label}: {ours:.1f} s for {n:,} input compounds "
            f"({n_ranked:,} ranked after standardization): "
            f"{n / ours:,.0f} compounds/s; "
            f"peak RSS of any step {max(s.max_rss_mib for s in steps):.0f} MiB",
            flush=True,
        )
        result = {
            "library": args.library,
            "n": n,
            "label": label,
            "synthetic_scores": args.synthetic_scores,
            "device": args.device,
            "load_average": os.getloadavg()[0],
            "n_ranked": n_ranked,
            "shards": args.shards,
            "threads": args.threads,
            "steps": [vars(s) | {"cmd": " ".join(s.cmd)} for s in steps],
            "drugnet_seconds": ours,
            "drugnet_per_s": n / ours,
        }
        if args.explain_cost:
            result |= explanation_cost(
                campaign,
                work,
                [
                    *drugnet,
                    "screen",
                    "rank",
                    "--library",
                    std,
                    "--results-dir",
                    args.results_dir,
                    *best_of,
                    "--inputs",
                    *shards,
                    "--threads",
                    threads,
                ],
                steps[-1],
                ours,
                env,
            )
        if not args.no_chemprop:
            chemprop = Path(args.chemprop)
            model = (
                Path(args.chemprop_model)
                if args.chemprop_model
                else train_chemprop(chemprop, work, args.chemprop_train_epochs, args.threads)
            )
            ours_size, theirs_size = parameter_counts(
                None
                if args.campaign
                else Path(args.results_dir) / args.dataset / "models" / args.model,
                model,
                chemprop,
            )
            ours_size = ours_size or describe_campaign(args, campaign)
            cp = Step(
                "chemprop",
                [
                    chemprop,
                    "predict",
                    "-i",
                    library,
                    "-s",
                    "smiles",
                    "--model-paths",
                    model,
                    "-o",
                    work / "chemprop_preds.csv",
                    "--num-workers",
                    "0",
                    "--accelerator",
                    "cpu",
                    "--devices",
                    "1",
                ],
                work / "chemprop.log",
                env,
            ).run()
            ratio = (n / ours) / (n / cp.seconds)
            print(f"chemprop predict: {cp.seconds:.1f} s: {n / cp.seconds:,.0f} compounds/s")
            print(f"models: drugnet {ours_size}; chemprop {theirs_size}")
            print(f"throughput ratio drugnet/chemprop: {ratio:.2f} (target >= 1, goal 2)")
            result |= {
                "chemprop_seconds": cp.seconds,
                "chemprop_per_s": n / cp.seconds,
                "chemprop_max_rss_mib": cp.max_rss_mib,
                "ratio": ratio,
                "models": {"drugnet": ours_size, "chemprop": theirs_size},
            }
        if args.json:
            with open(args.json, "a") as fh:
                fh.write(json.dumps(result, default=str) + "\n")
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
