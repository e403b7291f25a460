"""Write ``data/pretrain_corpus.csv.gz``: the unlabelled molecules the GNN encoder is pretrained on.

The MOSES test set (176,074 drug-like ZINC compounds) and the DrugCentral structures (3,949 drugs),
as ``id,smiles`` with ids ``moses:<row>`` and ``drugcentral:<ID>``. No labelled dataset's molecules
are included, so validation molecules stay unseen by the encoder. Run from the repository root:

    python data/make_pretrain_corpus.py ../shared/data/moses_test.csv.gz \\
        data/drugcentral_structures.tsv.gz
"""

from __future__ import annotations

import argparse
import gzip

import pandas as pd


def corpus(moses: str, drugcentral: str) -> pd.DataFrame:
    """The two sources as one ``id,smiles`` frame, in file order."""
    m = pd.read_csv(moses, dtype=str, keep_default_na=False)
    d = pd.read_csv(drugcentral, sep="\t", dtype=str, keep_default_na=False)
    return pd.concat(
        [
            pd.DataFrame({"id": [f"moses:{i}" for i in range(len(m))], "smiles": m["SMILES"]}),
            pd.DataFrame({"id": "drugcentral:" + d["ID"], "smiles": d["SMILES"]}),
        ],
        ignore_index=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("moses", help="moses_test.csv.gz (column SMILES)")
    parser.add_argument("drugcentral", help="drugcentral_structures.tsv.gz (columns SMILES, ID)")
    parser.add_argument("--output", default="data/pretrain_corpus.csv.gz")
    args = parser.parse_args()
    frame = corpus(args.moses, args.drugcentral)
    # mtime=0: the same inputs give the same bytes
    with gzip.GzipFile(args.output, "wb", mtime=0) as handle:
        handle.write(frame.to_csv(index=False).encode())
    print(f"wrote {args.output}: {len(frame)} rows")


if __name__ == "__main__":
    main()
