"""Do the TensorFlow and JAX backends compute the same training step for one of our models?

Builds the model under TensorFlow, saves its initial weights, loads them under JAX, and in
each backend takes one SGD step (learning rate 1, so the update is minus the gradient) on the
same batch, BatchNormalization in training mode and dropout off. Prints the first loss of each
and, per weight tensor, the cosine between the two gradients. For scale, it prints the same for
TensorFlow against itself with the input changed by one part in 10^7 (float32 rounding): a deep
network at initialisation amplifies rounding, so even that is not 1. Needs `tensorflow` and `jax`.

    python scripts/backend_parity.py --model resnet50

Biases of convolutions followed by BatchNormalization have a true gradient of zero (the
normalisation removes them), so theirs is rounding noise and is left out of the summary.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

#: The `full` preset's log-mel input: 80 bands x 121 frames, one channel.
INPUT_SHAPE = (80, 121, 1)
BATCH = 32


def one_step(model_name: str, folder: Path) -> None:
    """In the current backend: load (or, under TensorFlow, make) the initial weights, take one step, save the update."""
    import keras

    from ravdess_tf.models import build_model

    backend = keras.backend.backend()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, *INPUT_SHAPE)).astype("float32")
    y = (np.arange(BATCH) % 8).astype("int32")
    keras.utils.set_random_seed(0)
    model = build_model(model_name, INPUT_SHAPE, 8, dropout=0.0)
    initial = folder / "initial.weights.h5"
    if backend == "tensorflow":
        model.save_weights(initial)
    # Reloading weights into a model compiled before warns that the saved file has no optimizer; harmless here.
    warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")

    def save_update(inputs, name):
        model.load_weights(initial)
        model.compile(optimizer=keras.optimizers.SGD(1.0), loss="sparse_categorical_crossentropy")
        before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
        loss = float(model.train_on_batch(inputs, y))
        update = {w.path: b - keras.ops.convert_to_numpy(w) for w, b in zip(model.trainable_weights, before)}
        np.savez(folder / f"{name}.npz", loss=loss, **update)

    save_update(x, backend)
    if backend == "tensorflow":
        save_update(x * (1 + 1e-7 * rng.standard_normal(x.shape)).astype("float32"), "tensorflow-perturbed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="resnet50", help="a ravdess_tf model name (default: resnet50)")
    parser.add_argument("--step-in", type=Path, help=argparse.SUPPRESS)  # the per-backend child process
    args = parser.parse_args()
    if args.step_in:
        one_step(args.model, args.step_in)
        return

    with tempfile.TemporaryDirectory() as folder:
        for backend in ("tensorflow", "jax"):  # TensorFlow first: it writes the initial weights
            subprocess.run([sys.executable, __file__, "--model", args.model, "--step-in", folder],
                           env={**os.environ, "KERAS_BACKEND": backend}, check=True)
        steps = {name: np.load(Path(folder) / f"{name}.npz")
                 for name in ("tensorflow", "jax", "tensorflow-perturbed")}
        print(f"first loss: tensorflow {float(steps['tensorflow']['loss']):.5f}, "
              f"jax {float(steps['jax']['loss']):.5f}")
        for other in ("jax", "tensorflow-perturbed"):
            cosines = gradient_cosines(steps["tensorflow"], steps[other])
            worst = min(cosines, key=cosines.get)
            print(f"tensorflow vs {other}: gradient cosine over {len(cosines)} tensors: median "
                  f"{np.median(list(cosines.values())):.5f}, lowest {cosines[worst]:.5f} ({worst})")


def gradient_cosines(first, second) -> dict:
    """Cosine between two updates, per weight tensor, less conv biases (zero true gradient under BN)."""
    cosines = {}
    for name in first.files:
        if name == "loss" or (name.endswith("/bias") and "conv" in name):
            continue
        a, b = first[name].ravel(), second[name].ravel()
        cosines[name] = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))
    return cosines


if __name__ == "__main__":
    main()
