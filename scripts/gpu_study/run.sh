#!/usr/bin/env bash
# Train runs of a preset on one GPU under the JAX backend, several at once: small runs leave most of a
# large GPU idle, so a few queues side by side finish the grid sooner. See scripts/gpu_study/README.md.
#
# Each argument is one queue of runs, separated by commas; a run is "MODEL PROTOCOL [FOLD]":
#   PRESET=full bash scripts/gpu_study/run.sh "vgg19 paper" "resnet50 actor_cv 0,resnet50 actor_cv 3"
#
# Run folders go to runs/PRESET/ as `ravdess-tf train` writes them (a finished run is skipped, an
# unfinished one resumed), logs to logs/PRESET/. Copy runs/PRESET back and run `ravdess-tf study` there
# to write the tables: it skips the finished runs.
set -u
cd "$(dirname "$0")/../.."
preset=${PRESET:-full}
# float32 matrix products at full precision (JAX would use TF32 on recent NVIDIA GPUs), as on a CPU;
# no preallocation, so that several processes share the GPU's memory.
export KERAS_BACKEND=jax JAX_DEFAULT_MATMUL_PRECISION=float32 XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
python3 -c "import jax; print('jax', jax.__version__, jax.devices())" || exit 1
mkdir -p "logs/$preset" "runs/$preset"
start=$(date +%s)

train_one() {  # MODEL PROTOCOL [FOLD]
    local name="$1-$2${3:+-fold$3}" began=$(date +%s)
    if [ -f "runs/$preset/$name/metrics.json" ]; then echo "$name: finished earlier, skipped"; return; fi
    python3 -m ravdess_tf train --model "$1" --protocol "$2" ${3:+--fold "$3"} --preset "$preset" \
        --run-dir "runs/$preset/$name" --verbose 2 > "logs/$preset/$name.log" 2>&1
    echo "$name: exit $? after $(( $(date +%s) - began )) s: $(tail -n 1 "logs/$preset/$name.log")"
}

for queue in "$@"; do
    ( IFS=','; for run in $queue; do IFS=' '; train_one $run; done ) &
done
wait
echo "all queues done in $(( $(date +%s) - start )) s"
