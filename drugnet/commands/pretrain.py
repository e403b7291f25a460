"""Pretrain the GNN encoder self-supervised: predict RDKit descriptors of unlabelled molecules.

Reads a featurized corpus (``drugnet standardize`` + ``drugnet featurize``, e.g. with
``--descriptors all``) and writes an encoder checkpoint that ``model.gnn.pretrained`` fine-tunes
from (docs/models.md#pretrained-graph-encoder).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import logging
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import torch

from drugnet import __version__
from drugnet.config import schema_default
from drugnet.features.store import FeatureStore
from drugnet.io.atomic import write_csv_atomic
from drugnet.models.encoder import save_encoder
from drugnet.train.self_supervised import pretrain_gnn

log = logging.getLogger("drugnet.train")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus-dir",
        required=True,
        help="folder with the corpus' standardized.csv and features/ (graphs, descriptors)",
    )
    parser.add_argument("--output", required=True, help="encoder checkpoint to write (.pt)")
    parser.add_argument(
        "--hparams",
        default=json.dumps(schema_default("pretrain.hparams")),
        help="JSON object of GNN architecture/training settings over the GNN defaults "
        "(default: %(default)s)",
    )
    parser.add_argument("--holdout", type=float, default=0.05, help="early-stopping fraction")
    parser.add_argument("--seed", type=int, default=schema_default("model.seed"))
    parser.add_argument("--device", default=schema_default("model.device"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--history", help="optional CSV of the per-epoch history")


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _git(*words: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *words],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def _commit() -> str | None:
    """The git commit of the drugnet checkout that runs (``-dirty`` when its tracked files have
    uncommitted changes), or None outside a checkout."""
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return None
    return commit + ("-dirty" if _git("status", "--porcelain", "--untracked-files=no") else "")


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this run (every option spelled out)."""
    options = ["corpus_dir", "output", "hparams", "holdout", "seed", "device", "threads"]
    words = ["drugnet", "pretrain"]
    for name in options:
        words += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    return shlex.join(words)


def _provenance(args: argparse.Namespace, store: FeatureStore) -> dict:
    corpus = Path(args.corpus_dir) / "standardized.csv"
    return {
        "command": _command(args),
        "drugnet": __version__,
        "commit": _commit(),
        "corpus": str(corpus),
        "corpus_sha256": _sha256(corpus) if corpus.exists() else None,
        "descriptor_set": store.settings.get("descriptors"),
        "seed": args.seed,
        "torch": str(torch.__version__),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def main(args: argparse.Namespace) -> int:
    overrides = json.loads(args.hparams)
    if not isinstance(overrides, dict):
        print("drugnet pretrain: error: --hparams must be a JSON object", file=sys.stderr)
        return 2
    store = FeatureStore(Path(args.corpus_dir) / "features")
    model, hparams, summary, history = pretrain_gnn(
        store,
        store.descriptor_names,
        overrides,
        holdout=args.holdout,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
    )
    provenance = {**_provenance(args, store), **summary, "hparams": hparams}
    save_encoder(args.output, model, hparams, provenance)
    if args.history:
        write_csv_atomic(pd.DataFrame(history), args.history)
    log.info("wrote %s", args.output)
    return 0
