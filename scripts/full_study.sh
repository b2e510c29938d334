#!/usr/bin/env bash
# The real study as it was run on a 2-core CPU, in the order that gives results soonest.
# Resumable: run it again after an interruption; finished runs are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export RAVDESS_ROOT="${RAVDESS_ROOT:-../shared/ravdess}"

# 1. The two sequence models: 6-fold actor cross-validation, the actor split and the paper split.
ravdess-tf study --preset full --models transformer lstm --protocols actor_cv actor paper

#    The transformer's recipe (augmented copies of its training clips) is the lever with the best
#    mean validation macro-F1 of those tried on its folds (results/ablation.md):
python scripts/recipe_levers.py --model transformer --levers recipe ema-0.99 augmented-copies

# 2. The bundled log-mel model: the architecture with the best mean *validation* macro-F1 over the
#    six folds (transformer 0.557, lstm 0.494, on the features as recorded), trained on all 24 actors
#    for the median best epoch of its folds, then saved without its optimizer state.
EPOCHS=$(python -c "
import json, statistics
print(round(statistics.median(json.load(open(f'runs/full/transformer-actor_cv-fold{k}/selection.json'))['best_epoch'] for k in range(6))))")
if [ ! -f runs/full/transformer-all/metrics.json ]; then
    ravdess-tf train --model transformer --protocol all --preset full --epochs "$EPOCHS" \
        --run-dir runs/full/transformer-all --verbose 2
fi
python -c "
import keras, ravdess_tf.models as m; m.register_custom_layers()
keras.models.load_model('runs/full/transformer-all/best.keras', compile=False).save('ravdess_tf/pretrained/best.keras')"
cp runs/full/transformer-all/config.json runs/full/transformer-all/normalizer.json ravdess_tf/pretrained/

# 3. The five convolutional networks on the paper and actor splits (the long part: 5-10 hours,
#    as the machine's load goes), the faster ones first and each model on both splits before the next.
ravdess-tf study --preset full --models alexnet inception_v3 --protocols paper actor
for model in resnet50 vgg16 vgg19; do
    ravdess-tf study --preset full --models "$model" --protocols paper actor
done

# 4. 6-fold actor cross-validation of three convolutional networks (18 runs; about 12 hours on a 2-core CPU).
#    In results/full these ran on one H200 GPU with the JAX backend, several runs at once
#    (docs/cluster.md: --executor ray); on a CPU this line does the same work.
ravdess-tf study --preset full --models resnet50 alexnet inception_v3 --protocols actor_cv

# Each study command rewrites results/full/ and figures/full/ from every finished run of the preset.
