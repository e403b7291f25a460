"""``drugnet <step>``: one command-line entry point for every pipeline step.

Each step lives in ``drugnet/commands/<module>.py`` with ``add_arguments(parser)`` and
``main(args) -> int``; Snakemake rules call these steps and hold no logic of their own.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from threadpoolctl import threadpool_limits

from drugnet import __version__

# step name -> module under drugnet.commands (kept in pipeline order for --help)
STEPS: dict[str, str] = {
    "check-config": "check_config",
    "standardize": "standardize",
    "split": "split",
    "featurize": "featurize",
    "pretrain": "pretrain",
    "train": "train",
    "consensus": "consensus",
    "calibrate": "calibrate",
    "evaluate": "evaluate",
    "predict": "predict",
    "probe": "probe",
    "screen": "screen",
    "report": "report",
}


def _module(name: str):
    return importlib.import_module(f"drugnet.commands.{STEPS[name]}")


def build_parser(steps: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="drugnet", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"drugnet {_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="step", metavar="<step>")
    for name in steps or STEPS:
        try:
            module = _module(name)
        except ModuleNotFoundError as exc:  # a step whose module is not installed
            if exc.name and exc.name.startswith("drugnet.commands"):
                continue
            raise
        doc = (module.__doc__ or name).strip().splitlines()[0]
        p = sub.add_parser(
            name,
            help=doc,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_main=module.main)
    return parser


def _version() -> str:
    return __version__


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # build only the requested step's parser when it is known: imports stay light
    requested = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser([requested] if requested in STEPS else None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "_main", None):
        build_parser().print_help()
        return 1
    threads = getattr(args, "threads", None)
    if threads:
        # BLAS and OpenMP pools too, not only torch's: Snakemake packs jobs by declared threads
        threadpool_limits(int(threads))
    return int(args._main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
