#!/usr/bin/env bash
# On a lent GPU machine (JAX, no TensorFlow), with devrun/ from pack.py carried beside the repository:
# train runs of a preset (PRESET, default full; the one pack.py packed), several at once on the one GPU, and bring them back in $OUT/runs.tgz.
#
# Each argument is one worker's queue of runs, separated by commas; a run is "MODEL PROTOCOL [FOLD]":
#   bash scripts/gpu_study/run.sh "vgg19 paper" "resnet50 actor_cv 0,resnet50 actor_cv 3"
# BUDGET_S (default 470) is the seconds after which no run starts and running ones are stopped, so that
# the results are packed before the device tool's per-call limit. Run folders come back without
# best.keras and backup/ (a VGG's are hundreds of MB, over what the tool returns); each run's log comes too.
set -u
start=$(date +%s)
deadline=$((start + ${BUDGET_S:-470}))
carried=${CARRIED:-devrun}
preset=${PRESET:-full}

python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$carried"/whl/*.whl || exit 1
# float32 matrix products at full precision (JAX would use TF32 on this GPU), as on the CPU runs;
# no preallocation, so that several processes share the GPU's memory.
export PYTHONPATH=/tmp/site:$PWD KERAS_BACKEND=jax JAX_DEFAULT_MATMUL_PRECISION=float32 \
       XLA_PYTHON_CLIENT_PREALLOCATE=false RAVDESS_ROOT=/tmp/ravdess RAVDESS_TF_CACHE=/tmp/cache PYTHONUNBUFFERED=1
python3 "$(dirname "$0")/restore.py" "$carried" /tmp/ravdess /tmp/cache || exit 1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import keras, jax, pandas, sklearn; print('keras', keras.__version__, 'jax', jax.__version__, jax.devices(), 'pandas', pandas.__version__, 'sklearn', sklearn.__version__)" || exit 1
mkdir -p /tmp/logs "runs/$preset"

train_one() {  # MODEL PROTOCOL [FOLD]
    local name="$1-$2${3:+-fold$3}" left=$((deadline - $(date +%s)))
    [ "$left" -gt 60 ] || { echo "$name: not started, $left s left"; return; }
    local began=$(date +%s)
    timeout "$left" python3 -m ravdess_tf train --model "$1" --protocol "$2" ${3:+--fold "$3"} --preset "$preset" \
        --run-dir "runs/$preset/$name" --verbose 2 > "/tmp/logs/$name.log" 2>&1
    echo "$name: exit $? after $(( $(date +%s) - began )) s: $(tail -n 1 "/tmp/logs/$name.log")"
}

for queue in "$@"; do
    ( IFS=','; for run in $queue; do IFS=' '; train_one $run; done ) &
done
sleep 90; nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
wait
tar czf "$OUT/runs.tgz" --exclude=best.keras --exclude=backup "runs/$preset" -C /tmp logs
echo "total $(( $(date +%s) - start )) s"
