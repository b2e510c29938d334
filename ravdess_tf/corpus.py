"""Another emotional-speech corpus as a test set: its labels mapped onto RAVDESS's eight emotions.

A model trained on RAVDESS answers with RAVDESS's emotions; another corpus
has its own labels, often fewer (no "calm" anywhere else) and some RAVDESS
lacks (EmoDB's boredom). :func:`load_corpus` reads a corpus' labels from its
file names (:data:`NAME_RULES`, for the public corpora users own) or from a
CSV, keeps the clips whose emotion RAVDESS has, and :func:`evaluate_corpus`
scores a model two ways: over the emotions the corpus shares with RAVDESS
(the model's answer restricted to them: "which of these six is it?") and
8-way (any RAVDESS answer allowed, as ``predict`` gives it).

Label rules (the corpus' label -> RAVDESS emotion; others are left out):

- ``emodb`` (Berlin EmoDB, ``03a01Fa.wav``: the 6th character): W anger -> angry,
  E disgust, A fear -> fearful, F happiness -> happy, T sadness -> sad,
  N neutral; L boredom is left out.
- ``crema-d`` (``1001_DFA_ANG_XX.wav``: the 3rd field): ANG, DIS, FEA, HAP, NEU, SAD.
- ``tess`` (``OAF_back_angry.wav``: the last word): angry, disgust, fear, happy,
  neutral, ps (pleasant surprise) -> surprised, sad.
- ``savee`` (``DC_sa03.wav``: the letters before the number): a, d, f, h, n, sa, su.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .data import EMOTIONS
from .evaluation import confusion
from .exceptions import ParameterError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


def _emodb(stem: str):
    codes = {"W": "angry", "E": "disgust", "A": "fearful", "F": "happy", "T": "sad", "N": "neutral",
             "L": "boredom"}
    return codes.get(stem[5]) if len(stem) >= 7 else None


def _crema_d(stem: str):
    codes = {"ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
    parts = stem.split("_")
    return codes.get(parts[2]) if len(parts) >= 3 else None


def _tess(stem: str):
    codes = {"angry": "angry", "disgust": "disgust", "fear": "fearful", "happy": "happy", "neutral": "neutral",
             "ps": "surprised", "sad": "sad"}
    return codes.get(stem.rsplit("_", 1)[-1].lower())


def _savee(stem: str):
    codes = {"a": "angry", "d": "disgust", "f": "fearful", "h": "happy", "n": "neutral", "sa": "sad",
             "su": "surprised"}
    match = re.search(r"([a-z]+)\d+$", stem.rsplit("_", 1)[-1])
    return codes.get(match.group(1)) if match else None


#: File-name rules of public corpora: a clip's stem -> its label (a RAVDESS emotion, another label, or None).
NAME_RULES = {"emodb": _emodb, "crema-d": _crema_d, "tess": _tess, "savee": _savee}


def load_corpus(folder: str | os.PathLike, rule: str | None = None, labels: str | os.PathLike | None = None
                ) -> tuple[pd.DataFrame, pd.Series]:
    """The clips of a corpus with RAVDESS emotions, and the count of clips left out per label.

    Parameters
    ----------
    folder : path
        The corpus' folder (searched recursively for .wav, .flac, .ogg, .mp3).
    rule : str or None
        A key of :data:`NAME_RULES` (labels from file names).
    labels : path or None
        Instead of ``rule``: a CSV with columns ``path`` (relative to
        ``folder``, or absolute) and ``emotion`` (RAVDESS's names: neutral,
        calm, happy, sad, angry, fearful, disgust, surprised; other labels
        are left out).

    Returns
    -------
    clips : pandas.DataFrame
        ``path``, ``label`` (the corpus' own, mapped), ``emotion``, ``emotion_id``.
    left_out : pandas.Series
        Clips left out, by label (``"(no label)"`` for names the rule cannot read).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ParameterError(f"corpus folder {str(folder)!r} does not exist")
    if (rule is None) == (labels is None):
        raise ParameterError(f"give either a file-name rule ({', '.join(NAME_RULES)}) or a labels CSV, not "
                             f"{'both' if rule else 'neither'}")
    if labels is not None:
        table = pd.read_csv(labels)
        missing = {"path", "emotion"} - set(table.columns)
        if missing:
            raise ParameterError(f"{labels} needs the columns path and emotion; missing: {', '.join(sorted(missing))}")
        table = pd.DataFrame({"path": [str(p if Path(p).is_absolute() else folder / p) for p in table["path"]],
                              "label": table["emotion"].astype(str)})
        absent = [p for p in table["path"] if not Path(p).is_file()]
        if absent:
            raise ParameterError(f"{labels} names {len(absent)} files that do not exist, e.g. {absent[0]!r}")
    else:
        if rule not in NAME_RULES:
            raise ParameterError(f"unknown corpus rule {rule!r}; rules: {', '.join(NAME_RULES)}")
        paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
        table = pd.DataFrame({"path": [str(p) for p in paths],
                              "label": [NAME_RULES[rule](p.stem) or "(no label)" for p in paths]})
    known = table["label"].isin(EMOTIONS)
    clips = table[known].reset_index(drop=True)
    if clips.empty:
        raise ParameterError(f"no clip of {folder} has an emotion RAVDESS knows ({', '.join(EMOTIONS)}); "
                             "check the rule or the labels")
    clips["emotion"] = clips["label"]
    clips["emotion_id"] = clips["emotion"].map({e: i for i, e in enumerate(EMOTIONS)}).astype(int)
    return clips, table.loc[~known, "label"].value_counts()


@dataclass(frozen=True)
class CorpusReport:
    """What :func:`evaluate_corpus` measured.

    Attributes
    ----------
    predictions : pandas.DataFrame
        One row per clip with speech: ``path``, ``emotion`` (true),
        ``predicted`` (8-way), ``predicted_shared`` and the probabilities.
    metrics : pandas.DataFrame
        Rows ``shared`` and ``8-way``: accuracy, macro precision, recall, F1.
    confusion : pandas.DataFrame
        Counts: true emotions (the shared ones) x predicted (all eight).
    shared : tuple
        The emotions the corpus shares with RAVDESS.
    no_speech : int
        Clips without speech (not scored).
    """

    predictions: pd.DataFrame
    metrics: pd.DataFrame
    confusion: pd.DataFrame
    shared: tuple
    no_speech: int


def evaluate_corpus(predictor, clips: pd.DataFrame, progress: bool = True) -> CorpusReport:
    """Score ``predictor`` on another corpus' clips (from :func:`load_corpus`).

    Macro averages run over the corpus' emotions only (a RAVDESS emotion the
    corpus lacks is never a true label); 8-way, answering an absent emotion
    (e.g. calm) counts as wrong.
    """
    table = predictor.predict(clips["path"], progress=progress)
    spoken = ~table["no_speech"].to_numpy(bool)
    table, truth = table[spoken].reset_index(drop=True), clips[spoken].reset_index(drop=True)
    if table.empty:
        raise ParameterError("no clip of the corpus holds speech")
    shared = tuple(e for e in EMOTIONS if e in set(truth["emotion"]))
    probabilities = table[list(EMOTIONS)].to_numpy()
    shared_ids = np.array([EMOTIONS.index(e) for e in shared])
    true_ids = truth["emotion_id"].to_numpy()
    predicted = probabilities.argmax(axis=1)
    predicted_shared = shared_ids[probabilities[:, shared_ids].argmax(axis=1)]
    labels = shared_ids  # macro averages over the corpus' emotions

    def scores(predicted_ids):
        from sklearn.metrics import precision_recall_fscore_support

        precision, recall, f1, _ = precision_recall_fscore_support(true_ids, predicted_ids, labels=labels,
                                                                   average="macro", zero_division=0)
        return {"accuracy": float((predicted_ids == true_ids).mean()), "precision_macro": float(precision),
                "recall_macro": float(recall), "f1_macro": float(f1), "clips": len(true_ids)}

    metrics = pd.DataFrame([{"answers": f"restricted to the {len(shared)} shared emotions", **scores(predicted_shared)},
                            {"answers": "any of the 8 (as predict gives them)", **scores(predicted)}])
    counts = confusion(true_ids, predicted)[shared_ids]
    predictions = pd.DataFrame({"path": truth["path"], "emotion": truth["emotion"],
                                "predicted": [EMOTIONS[i] for i in predicted],
                                "predicted_shared": [EMOTIONS[i] for i in predicted_shared]})
    predictions = pd.concat([predictions, table[list(EMOTIONS)]], axis=1)
    return CorpusReport(predictions, metrics, pd.DataFrame(counts, index=list(shared), columns=list(EMOTIONS)),
                        shared, int((~spoken).sum()))


def write_corpus_report(report: CorpusReport, out, title: str) -> Path:
    """Write ``predictions.csv``, ``metrics.csv`` and ``confusion.png`` (row-normalised) into ``out``."""
    from .atomic import write_csv
    from .plots import plot_confusion, save_figure

    out = Path(out)
    write_csv(out / "predictions.csv", report.predictions)
    write_csv(out / "metrics.csv", report.metrics)
    ids = {emotion: index for index, emotion in enumerate(EMOTIONS)}
    figure = plot_confusion(report.predictions["emotion"].map(ids), report.predictions["predicted"].map(ids),
                            normalize=True, title=title)
    save_figure(figure, out / "confusion.png")
    return out
