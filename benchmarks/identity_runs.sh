#!/bin/bash
# usage: benchmarks/identity_runs.sh CODE_DIR OUT_DIR ; runs standardize/split/featurize on Tox21 and DrugCentral
set -e
CODE=$1; OUT=$2; mkdir -p $OUT/tox21 $OUT/dc
export PYTHONPATH=$CODE
T="NR-AR NR-AR-LBD NR-AhR NR-Aromatase NR-ER NR-ER-LBD NR-PPAR-gamma SR-ARE SR-ATAD5 SR-HSE SR-MMP SR-p53"
D=$(cd "$(dirname "$0")/.." && pwd)/data
python -m drugnet.cli standardize $D/tox21_challenge_train.csv.gz --output $OUT/tox21/standardized.csv --rejects $OUT/tox21/rejects.csv --summary $OUT/tox21/summary.json --smiles-column smiles --id-column sample_id --targets $T --task classification --chunk-size 2000 --max-heavy-atoms 200 --threads 2
python -m drugnet.cli split --input $OUT/tox21/standardized.csv --output $OUT/tox21/split.csv --method scaffold --sizes 0.8 0.1 0.1 --seed 0 --targets $T
python -m drugnet.cli featurize --input $OUT/tox21/standardized.csv --output-dir $OUT/tox21/features --threads 2
python -m drugnet.cli standardize $D/drugcentral_structures.tsv.gz --output $OUT/dc/standardized.csv --rejects $OUT/dc/rejects.csv --summary $OUT/dc/summary.json --smiles-column SMILES --id-column ID --chunk-size 2000 --max-heavy-atoms 200 --threads 2
python -m drugnet.cli featurize --input $OUT/dc/standardized.csv --output-dir $OUT/dc/features --threads 2
