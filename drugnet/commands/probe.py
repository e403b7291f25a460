"""Probe the layers of a trained gnn/snn (every ensemble member) for functional groups, \
interaction centers and pharmacophores."""

from __future__ import annotations

import argparse
import logging

from drugnet.probing.atlas import AtlasSettings, probe_model_dir, write_atlas

log = logging.getLogger("drugnet.probe")


def _optional_int(text: str) -> int | None:
    return None if text.lower() in ("none", "all", "0") else int(text)


def _extra_model(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"--extra-model expects NAME=MODEL_DIR, got {text!r}")
    return name, path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = AtlasSettings()
    parser.add_argument(
        "--dataset-dir", required=True, help="results/<ds> (standardized.csv, features/)"
    )
    parser.add_argument(
        "--model-dir", required=True, help="results/<ds>/models/<model> (gnn or snn)"
    )
    parser.add_argument("--output-dir", required=True, help="results/<ds>/probes/<model>")
    parser.add_argument(
        "--max-molecules",
        type=_optional_int,
        default=defaults.max_molecules,
        help="seeded random subset of molecules to probe "
        f"(default {defaults.max_molecules}; 'all')",
    )
    parser.add_argument(
        "--atoms-per-molecule",
        type=_optional_int,
        default=defaults.atoms_per_molecule,
        help="random atoms kept per molecule for atom-level "
        f"probes (default {defaults.atoms_per_molecule}; 'all')",
    )
    parser.add_argument(
        "--min-positives",
        type=int,
        default=defaults.min_positives,
        help="skip concepts with fewer positive molecules (or negative items)",
    )
    parser.add_argument(
        "--n-boot", type=int, default=defaults.n_boot, help="bootstrap resamples of test molecules"
    )
    parser.add_argument(
        "--member",
        type=int,
        default=defaults.member,
        help="primary member: control task and neuron examples (default 0)",
    )
    parser.add_argument(
        "--members",
        type=_optional_int,
        default=defaults.members,
        help="probe the first N ensemble members (default: all)",
    )
    parser.add_argument(
        "--matched-layer",
        type=int,
        default=defaults.matched_layer,
        help="earliest layer of the receptive-field-matched "
        f"hierarchy test (default {defaults.matched_layer})",
    )
    parser.add_argument(
        "--ablation",
        action=argparse.BooleanOptionalAction,
        default=defaults.ablation,
        help="mean-ablate detector units and measure the validation ROC-AUC drop (default on)",
    )
    parser.add_argument(
        "--ablation-k",
        type=int,
        default=defaults.ablation_k,
        help=f"units ablated per family and layer (default {defaults.ablation_k})",
    )
    parser.add_argument(
        "--ablation-draws",
        type=int,
        default=defaults.ablation_draws,
        help=f"random unit sets per layer (default {defaults.ablation_draws})",
    )
    parser.add_argument(
        "--extra-model",
        type=_extra_model,
        action="append",
        default=[],
        metavar="NAME=MODEL_DIR",
        help="also probe member 0 of another gnn/snn model directory as network NAME (e.g. a "
        "pretrained encoder); repeatable",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--threads", type=int, default=defaults.threads)


def main(args: argparse.Namespace) -> int:
    settings = AtlasSettings(
        max_molecules=args.max_molecules,
        atoms_per_molecule=args.atoms_per_molecule,
        min_positives=args.min_positives,
        n_boot=args.n_boot,
        member=args.member,
        members=args.members,
        matched_layer=args.matched_layer,
        ablation=args.ablation,
        ablation_k=args.ablation_k,
        ablation_draws=args.ablation_draws,
        extra_models=dict(args.extra_model),
        seed=args.seed,
        threads=args.threads,
    )
    result = probe_model_dir(args.dataset_dir, args.model_dir, settings, log=log.info)
    write_atlas(result, args.output_dir)
    log.info("%s", result.hierarchy["verdict"])
    return 0
