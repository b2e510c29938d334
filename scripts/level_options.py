"""Which level to normalise: how far each estimate of a clip's level moves when the recording changes.

For RAVDESS clips (every 12th), three estimates of a clip's level, in dB, each measured on the
clip as recorded and on the same clip with (a) 1 s of silence added at each end, (b) white noise
at 20 dB below its active speech, (c) one click (a single full-scale sample). A good estimate moves
by the gain applied and by little else: what it moves under (a)-(c) becomes an error of the
normalised level. Prints a Markdown table (median and 95th percentile of the absolute shift, dB),
then what normalising gives up: the macro-F1 of a logistic regression on the speech level alone
over the 6 actor folds (RAVDESS's actors speak some emotions louder than others).

    python scripts/level_options.py
"""

import numpy as np

from ravdess_tf import load_metadata
from ravdess_tf.data import default_data_dir
from ravdess_tf.audio import load_audio, speech_level
from ravdess_tf.robustness import add_noise

SR = 16_000
ESTIMATES = {
    "RMS of the whole clip": lambda a: 10 * np.log10(np.mean(a.astype(np.float64) ** 2)),
    "peak": lambda a: 20 * np.log10(np.abs(a).max()),
    "RMS of the active speech (chosen)": lambda a: speech_level(a, SR),
}
CHANGES = {
    "1 s of silence at each end": lambda a: np.pad(a, SR),
    "white noise, 20 dB SNR": lambda a: add_noise("white", 20)(a, None),
    "one full-scale click": lambda a: np.concatenate([a[:100], [1.0], a[101:]]).astype(np.float32),
}


def main() -> None:
    clips = load_metadata(default_data_dir()).iloc[::12]
    shifts = {(e, c): [] for e in ESTIMATES for c in CHANGES}
    for path in clips["path"]:
        audio = load_audio(path, SR)
        for estimate, measure in ESTIMATES.items():
            base = measure(audio)
            for change, alter in CHANGES.items():
                shifts[(estimate, change)].append(abs(measure(alter(audio)) - base))
    print(f"{len(clips)} RAVDESS clips; absolute shift of the estimate, dB (median / 95th percentile)\n")
    print("| estimate | " + " | ".join(CHANGES) + " |")
    print("|---|" + "---|" * len(CHANGES))
    for estimate in ESTIMATES:
        cells = [f"{np.median(shifts[(estimate, c)]):.1f} / {np.percentile(shifts[(estimate, c)], 95):.1f}"
                 for c in CHANGES]
        print(f"| {estimate} | " + " | ".join(cells) + " |")


def level_alone() -> None:
    from sklearn.linear_model import LogisticRegression

    from ravdess_tf import make_split
    from ravdess_tf.evaluation import compute_metrics
    from ravdess_tf.audio import fix_length

    metadata = load_metadata(default_data_dir())
    metadata["level"] = [speech_level(fix_length(load_audio(path, SR), 3 * SR), SR) for path in metadata["path"]]
    scores = []
    for fold in range(6):
        split = make_split(metadata, "actor_cv", fold=fold)
        model = LogisticRegression(class_weight="balanced", max_iter=1000).fit(split["train"][["level"]],
                                                                             split["train"]["emotion_id"])
        predicted = model.predict(split["test"][["level"]])
        scores.append(compute_metrics(split["test"]["emotion_id"], predicted)["f1_macro"])
    print(f"\nThe speech level of the centred 3 s alone, logistic regression, 6 actor folds: macro-F1 "
          f"{np.mean(scores):.3f} +- {np.std(scores, ddof=1):.3f} (chance 0.125)")


if __name__ == "__main__":
    main()
    level_alone()
