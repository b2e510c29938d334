#!/usr/bin/env bash
# The real study as it was run on a 2-core CPU, in the order that gives results soonest.
# Resumable: run it again after an interruption; finished runs are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export RAVDESS_ROOT="${RAVDESS_ROOT:-../shared/ravdess}"

# 1. The two sequence models: 6-fold actor cross-validation, the actor split and the paper split.
ravdess-tf study --preset full --models transformer lstm --protocols actor_cv actor paper

# 2. The bundled model: the architecture with the best mean *validation* macro-F1 over the six
#    folds (transformer 0.557, lstm 0.494), trained on all 24 actors for the median best epoch
#    of its folds (25).
if [ ! -f runs/full/transformer-all/metrics.json ]; then
    ravdess-tf train --model transformer --protocol all --preset full --epochs 25 \
        --run-dir runs/full/transformer-all --verbose 2
fi

# 3. The five convolutional networks on the paper and actor splits (the long part: 5-10 hours,
#    as the machine's load goes), the faster ones first and each model on both splits before the next.
ravdess-tf study --preset full --models alexnet inception_v3 --protocols paper actor
for model in resnet50 vgg16 vgg19; do
    ravdess-tf study --preset full --models "$model" --protocols paper actor
done

# 4. 6-fold actor cross-validation of three convolutional networks (18 runs; about 12 hours on a 2-core CPU).
#    In results/full these ran on one H200 GPU with the JAX backend, several runs at once
#    (scripts/gpu_study/README.md); on a CPU this line does the same work.
ravdess-tf study --preset full --models resnet50 alexnet inception_v3 --protocols actor_cv

# Each study command rewrites results/full/ and figures/full/ from every finished run of the preset.
