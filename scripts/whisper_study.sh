#!/usr/bin/env bash
# The Whisper front-end on the real data, as it was run on a 2-core CPU (needs the whisper extra).
# Resumable: finished runs are skipped, cached encoder states are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
export RAVDESS_ROOT="${RAVDESS_ROOT:-../shared/ravdess}"

# 1. Encode every clip once (all hidden states cached; about 3 minutes), then the linear head on
#    layers 2-4 under 6-fold actor cross-validation, the actor split and the paper split. Its rows
#    join results/full/ (features column whisper-base-L2+3+4).
ravdess-tf features --kind whisper
ravdess-tf study --preset whisper --protocols actor_cv actor paper --verbose 0
# The small transformer head on the same frames (by gradient), for comparison.
ravdess-tf study --preset whisper --models transformer --protocols actor actor_cv --verbose 0

# The same linear head with per-speaker normalisation (each actor's clips standardised by that
# actor's own statistics, test actors included, no labels): the actor protocols only.
ravdess-tf study --preset whisper-speaker-norm --protocols actor_cv actor --verbose 0

# 2. The bundled head: all 24 actors, with the C the cross-validation folds chose on their
#    validation actors (the median of the six).
C=$(python -c "
import json, statistics
print(statistics.median(json.load(open(f'runs/whisper/pooled-actor_cv-fold{k}/selection.json'))['C'] for k in range(6)))")
if [ ! -f runs/whisper/pooled-all/metrics.json ]; then
    ravdess-tf train --model pooled --protocol all --preset whisper --linear-c "$C" \
        --run-dir runs/whisper/pooled-all --verbose 0
fi
mkdir -p ravdess_tf/pretrained/whisper
python -c "
import keras, ravdess_tf.models as m; m.register_custom_layers()
keras.models.load_model('runs/whisper/pooled-all/best.keras', compile=False).save('ravdess_tf/pretrained/whisper/best.keras')"
cp runs/whisper/pooled-all/config.json runs/whisper/pooled-all/normalizer.json ravdess_tf/pretrained/whisper/

# 3. The levers table (results/whisper_levers.csv; every choice on validation actors), then the
#    costly one: input padded to 30 s (encodes every clip again, about 40 minutes here).
python scripts/whisper_levers.py
ravdess-tf features --kind whisper --pad-to-30s
python scripts/whisper_levers.py --part padded
python scripts/whisper_levers.py --part attention
