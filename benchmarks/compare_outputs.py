"""Compare two runs of standardize/split/featurize: CSVs byte for byte, feature files by content.

Usage: python benchmarks/compare_outputs.py RUN_A RUN_B, each holding <dataset>/standardized.csv,
rejects.csv, split.csv (optional) and features/ (as /tmp/ident16.sh in docs/benchmarks.md writes
them).
"""

import filecmp
import json
import sys
from pathlib import Path

import torch

a, b = Path(sys.argv[1]), Path(sys.argv[2])
for ds in sorted(p.name for p in a.iterdir() if p.is_dir()):
    for f in ("standardized.csv", "rejects.csv", "split.csv"):
        if (a / ds / f).exists():
            print(
                ds,
                f,
                "byte-identical"
                if filecmp.cmp(a / ds / f, b / ds / f, shallow=False)
                else "DIFFERENT",
            )
    for f in ("graphs.pt", "ecfp.pt", "descriptors.pt"):
        x = torch.load(a / ds / "features" / f, weights_only=True)
        y = torch.load(b / ds / "features" / f, weights_only=True)
        same = list(x) == list(y) and all(
            (
                torch.equal(v, y[k])
                or (
                    v.is_floating_point()
                    and v.dtype == y[k].dtype
                    and v.shape == y[k].shape
                    and torch.equal(
                        torch.nan_to_num(v, nan=-1e30), torch.nan_to_num(y[k], nan=-1e30)
                    )
                )
            )
            if isinstance(v, torch.Tensor)
            else v == y[k]
            for k, v in x.items()
        )
        print(
            ds,
            f,
            "content identical" if same else "DIFFERENT",
            {k: tuple(v.shape) for k, v in x.items() if isinstance(v, torch.Tensor)},
        )
    ma = json.loads((a / ds / "features" / "meta.json").read_text())
    mb = json.loads((b / ds / "features" / "meta.json").read_text())
    ma.pop("source")
    mb.pop("source")
    print(ds, "meta.json (without source path)", "identical" if ma == mb else "DIFFERENT")
