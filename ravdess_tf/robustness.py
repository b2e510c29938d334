"""How a model's answers hold up when the recording changes: level, noise, telephone band, timing.

RAVDESS was recorded in one studio at one level (active speech near -39 dBFS);
people's recordings are louder or quieter, noisier and band-limited. The
protocol takes clips a model was tested on, alters each the same way
(:data:`CONDITIONS`), and reports per condition the accuracy, the macro-F1
and the *agreement*: the fraction of clips whose answer is the one given to
the clip as recorded. A model that only learned RAVDESS's studio keeps its
accuracy as recorded and loses it under the conditions.

Examples
--------
>>> from ravdess_tf import load_metadata, load_pretrained
>>> from ravdess_tf.robustness import bundled_model_clips, evaluate_robustness
>>> metadata = load_metadata("../shared/ravdess")                       # doctest: +SKIP
>>> table = evaluate_robustness(load_pretrained("logmel"), bundled_model_clips(metadata),
...                             babble_from=metadata[metadata.actor <= 4])  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pathlib import Path

import numpy as np
import pandas as pd

from .evaluation import compute_metrics
from .exceptions import ParameterError
from .audio import DEFAULT_LEVEL_DBFS, load_audio, speech_level

#: Hz: every condition works on 16 kHz audio, the rate of every front-end.
SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class Condition:
    """One way of altering a recording: ``apply(audio, babble)`` gives the altered 16 kHz audio."""

    name: str
    group: str  #: "level", "noise", "channel" or "timing": how the figure groups conditions
    apply: Callable[[np.ndarray, np.ndarray], np.ndarray]


def gain(db: float) -> Callable:
    """Multiply by ``10 ** (db / 20)``."""
    return lambda audio, babble: audio * np.float32(10 ** (db / 20))


def peak_normalise(audio: np.ndarray, babble=None) -> np.ndarray:
    """Scale so that the largest sample is at full scale (0 dBFS), as most recording apps save speech."""
    peak = np.abs(audio).max()
    return audio / peak if peak > 0 else audio


def add_noise(kind: str, snr_db: float) -> Callable:
    """Add white noise (``kind="white"``) or the babble (``"babble"``) at ``snr_db`` below the active speech."""

    def apply(audio, babble):
        level = speech_level(audio, SAMPLE_RATE)
        if not np.isfinite(level):
            return audio
        if kind == "white":
            noise = np.random.default_rng(len(audio)).standard_normal(len(audio)).astype(np.float32)
        else:
            noise = np.resize(babble, len(audio))
        noise_level = 10 * np.log10(np.mean(noise.astype(np.float64) ** 2))
        return audio + noise * np.float32(10 ** ((level - snr_db - noise_level) / 20))

    return apply


def telephone(audio: np.ndarray, babble=None) -> np.ndarray:
    """A narrow-band telephone channel: 300-3400 Hz at 8 kHz, then back to 16 kHz."""
    import scipy.signal
    import soxr

    narrow = soxr.resample(audio, SAMPLE_RATE, 8_000, quality="HQ")
    band = scipy.signal.butter(4, [300, 3400], btype="bandpass", fs=8_000, output="sos")
    narrow = scipy.signal.sosfilt(band, narrow).astype(np.float32)
    return soxr.resample(narrow, 8_000, SAMPLE_RATE, quality="HQ").astype(np.float32)


def delay(seconds: float) -> Callable:
    """Start ``seconds`` later: silence before, the same length after (the speech moves in the window)."""

    def apply(audio, babble):
        shift = int(seconds * SAMPLE_RATE)
        return np.concatenate([np.zeros(shift, audio.dtype), audio[:len(audio) - shift]])

    return apply


#: The conditions of the protocol, "as recorded" first (the reference of agreement).
CONDITIONS = (
    Condition("as recorded", "reference", lambda audio, babble: audio),
    *(Condition(f"gain {db:+d} dB", "level", gain(db)) for db in (-30, -20, -10, 10, 20)),
    Condition("peak-normalised", "level", peak_normalise),
    *(Condition(f"white noise {snr} dB SNR", "noise", add_noise("white", snr)) for snr in (20, 10, 5)),
    *(Condition(f"babble {snr} dB SNR", "noise", add_noise("babble", snr)) for snr in (20, 10, 5)),
    Condition("telephone band", "channel", telephone),
    Condition("delayed 0.5 s", "timing", delay(0.5)),
)


def make_babble(paths, seconds: float = 10.0, talkers: int = 4, seed: int = 0) -> np.ndarray:
    """Several talkers at once: ``talkers`` clips, each at the same speech level, summed and looped.

    Parameters
    ----------
    paths : sequence of path
        Clips of speakers *not* in the evaluated clips (other actors).
    seconds : float
        Length of the babble, in seconds (it is repeated to cover longer clips).
    """
    paths = list(paths)
    if len(paths) < talkers:
        raise ParameterError(f"babble needs at least {talkers} clips of other speakers, got {len(paths)}")
    rng = np.random.default_rng(seed)
    length = int(seconds * SAMPLE_RATE)
    babble = np.zeros(length, np.float32)
    for index in rng.choice(len(paths), talkers, replace=False):
        audio = load_audio(paths[index], SAMPLE_RATE)
        level = speech_level(audio, SAMPLE_RATE)
        babble += np.resize(audio, length) * np.float32(10 ** ((DEFAULT_LEVEL_DBFS - level) / 20))
    return babble


def bundled_model_clips(metadata: pd.DataFrame) -> pd.DataFrame:
    """The clips the bundled models are checked on: actors 21-24, every third file (80 clips).

    The bundled models were trained on all 24 actors, so these clips were
    heard in training: they show whether an answer *changes* with the
    recording, not how good it is on new speakers.
    """
    clips = metadata[metadata["actor"] >= 21].sort_values("path").iloc[::3]
    if clips.empty:
        raise ParameterError("the metadata has no clips of actors 21-24")
    return clips


def run_test_clips(metadata: pd.DataFrame, run_dir, every: int = 1) -> pd.DataFrame:
    """The test clips of a finished run (from its ``predictions_test.csv``), every ``every``-th of them."""
    if not isinstance(every, (int, np.integer)) or every < 1:
        raise ParameterError(f"every must be a positive integer, got {every!r}")
    predictions = Path(run_dir) / "predictions_test.csv"
    if not predictions.is_file():
        raise ParameterError(f"{run_dir} has no predictions_test.csv: it has no test clips to alter")
    return metadata[metadata["clip_id"].isin(set(pd.read_csv(predictions)["clip_id"]))].iloc[::every]


def write_robustness(tables: dict[str, pd.DataFrame], out, name: str) -> tuple[Path, Path]:
    """Write the table (CSV) of the single model in ``tables`` and the figure (PNG) of all of them, as ``out/NAME``."""
    from .atomic import write_csv
    from .plots import save_figure
    from .results import file_slug

    name = file_slug(name)
    table_path, figure_path = Path(out) / f"{name}.csv", Path(out) / f"{name}.png"
    write_csv(table_path, next(iter(tables.values())))
    save_figure(plot_robustness(tables), figure_path)
    return table_path, figure_path


def evaluate_robustness(predictor, clips: pd.DataFrame, babble_from: pd.DataFrame, conditions=CONDITIONS,
                        progress: bool = True) -> pd.DataFrame:
    """Accuracy, macro-F1 and agreement of ``predictor`` on ``clips`` under each condition.

    Parameters
    ----------
    predictor : ravdess_tf.inference.EmotionPredictor
        From :func:`ravdess_tf.load_pretrained` or :func:`ravdess_tf.load_run`.
    clips : pandas.DataFrame
        Rows of :func:`ravdess_tf.load_metadata` (``path``, ``emotion_id``).
    babble_from : pandas.DataFrame
        Clips of other speakers to make the babble of (:func:`make_babble`).
    conditions : sequence of Condition
        The first is the reference for agreement.

    Returns
    -------
    pandas.DataFrame
        One row per condition: ``condition``, ``group``, ``clips``,
        ``accuracy``, ``f1_macro``, ``agreement``.
    """
    from tqdm.auto import tqdm

    if clips.empty:
        raise ParameterError("no clips to evaluate")
    babble = make_babble(babble_from["path"])
    recordings = [load_audio(path, SAMPLE_RATE) for path in clips["path"]]
    truth = clips["emotion_id"].to_numpy()
    rows, reference = [], None
    for condition in tqdm(conditions, desc="Conditions", unit="condition", disable=not progress):
        altered = [condition.apply(audio, babble).astype(np.float32) for audio in recordings]
        predicted = predictor.predict_audio(altered).argmax(axis=1)
        reference = predicted if reference is None else reference
        rows.append({"condition": condition.name, "group": condition.group, "clips": len(truth),
                     "accuracy": float((predicted == truth).mean()),
                     "f1_macro": compute_metrics(truth, predicted)["f1_macro"],
                     "agreement": float((predicted == reference).mean())})
    return pd.DataFrame(rows)


def plot_robustness(tables: dict[str, pd.DataFrame], ax=None):
    """Accuracy (bars) and agreement with the as-recorded answer (dots) per condition, one colour per model."""
    import matplotlib.pyplot as plt

    if ax is None:
        figure, ax = plt.subplots(figsize=(11, 4.5))
    else:
        figure = ax.figure
    names = list(tables)
    conditions = list(next(iter(tables.values()))["condition"])
    positions = np.arange(len(conditions))
    width = 0.8 / len(names)
    for index, name in enumerate(names):
        table = tables[name].set_index("condition").reindex(conditions)
        bars = ax.bar(positions + index * width, table["accuracy"], width, label=f"{name}: accuracy")
        ax.plot(positions + index * width, table["agreement"], "o", color=bars.patches[0].get_facecolor(),
                markeredgecolor="black", label=f"{name}: agreement with as recorded")
    ax.set_xticks(positions + width * (len(names) - 1) / 2, conditions, rotation=35, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("fraction of clips")
    ax.set_title("answers under altered recordings")
    ax.legend(fontsize=8, loc="lower left")
    return figure
