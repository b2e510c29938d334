"""Train one small model with ravdess_tf.training.train under the backend in KERAS_BACKEND.

Run by tests/test_backend_parity.py once per backend, each in its own process (Keras picks its
backend at import):

    KERAS_BACKEND=jax python tests/backend_parity_worker.py WORK_DIR OUT.json

The first run writes synthetic RAVDESS-named clips (a tone whose pitch and loudness follow the
emotion, plus noise) and the model's initial weights into WORK_DIR; later runs reuse both, so
every backend starts from the same weights and, through the library's batches, sees the same
batches in the same order with the same augmentation. Dropout is off: its masks come from each
backend's own random numbers. What is left to differ is the arithmetic.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile

#: A CPU-sized ResNet50 (its first stage), with BatchNormalization in training mode.
MODEL, MODEL_OPTIONS = "resnet50", {"stages": 1, "dropout": 0.0}
#: 32 bands x 47 frames (3 s at a 64 ms hop): ResNet50's smallest input is 32 x 32.
FEATURES = {"n_mels": 32, "hop_length": 1024}
ACTORS = {"train": range(1, 7), "validation": [7], "test": [8]}
EPOCHS = 4


def write_clips(root: Path) -> None:
    rng = np.random.default_rng(0)
    rate = 16_000
    t = np.arange(int(3.2 * rate)) / rate
    for actors in ACTORS.values():
        for actor in actors:
            folder = root / f"Actor_{actor:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            for emotion in range(1, 9):
                for statement in (1, 2):
                    pitch = 110 + 25 * emotion + 5 * actor
                    tone = (0.02 + 0.01 * emotion) * np.sin(2 * np.pi * pitch * t * (1 + 0.05 * statement * t))
                    audio = tone + 0.01 * rng.standard_normal(len(t))
                    name = f"03-01-{emotion:02d}-01-{statement:02d}-01-{actor:02d}.wav"
                    soundfile.write(folder / name, audio.astype(np.float32), rate, subtype="PCM_16")


def main(work: Path, out: Path) -> None:
    import keras

    from ravdess_tf import load_metadata
    from ravdess_tf.models import build_model
    from ravdess_tf.training import TrainConfig, train

    audio, weights = work / "audio", work / "initial.weights.h5"
    if not audio.is_dir():
        write_clips(audio)
    metadata = load_metadata(audio)
    split = {part: metadata[metadata.actor.isin(actors)] for part, actors in ACTORS.items()}
    config = TrainConfig(epochs=EPOCHS, patience=EPOCHS, batch_size=16, learning_rate=1e-3, seed=0,
                         model_options=MODEL_OPTIONS, features=FEATURES)
    if not weights.is_file():
        keras.utils.set_random_seed(0)
        build_model(MODEL, (*config.feature_config().shape, 1), 8, **MODEL_OPTIONS).save_weights(weights)
    from dataclasses import replace

    run_dir = work / f"run-{keras.backend.backend()}"
    result = train(MODEL, split, replace(config, initial_weights=str(weights)), run_dir=run_dir,
                   cache_dir=work / "cache", overwrite=True, verbose=0)
    history = pd.read_csv(run_dir / "history.csv")
    out.write_text(json.dumps({"backend": result["backend"], "loss": history["loss"].tolist(),
                               "accuracy": history["accuracy"].tolist()}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
