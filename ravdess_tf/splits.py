"""Train / validation / test splits of the RAVDESS metadata.

Four protocols, one entry point (:func:`make_split`):

``paper``
    The study's random 960/240/240 split, stratified by emotion. Every actor
    appears in all three parts, so a model can score by recognising voices it
    has heard; its numbers are not a measure of generalisation to new speakers.
``actor``
    Actors 1-16 train, 17-20 validation, 21-24 test (also 960/240/240). No
    actor is in two parts.
``actor_cv``
    Six folds of four consecutive actors (:func:`actor_folds`). For fold ``i``
    the test actors are fold ``i``'s, validation is fold ``i + 1`` (mod 6),
    training is the other 16 actors.
``emobox``
    The six folds of the EmoBox benchmark (Ma et al., Interspeech 2024;
    its ``data/ravdess/fold_k`` files): four test actors per fold, not
    consecutive (:data:`EMOBOX_TEST_ACTORS`). EmoBox trains on the other 20
    actors and has no validation part; here the validation actors of fold
    ``i`` are the test actors of fold ``i + 1`` (mod 6), taken out of those
    20, so that every choice is made on actors EmoBox trains on and the test
    actors stay EmoBox's. A recipe that refits on training + validation
    (the Whisper linear head) ends up trained on EmoBox's 20 actors.
``all``
    Every clip in training, validation and test empty: for a final model
    whose recipe (epochs included) was chosen by one of the protocols above.
    It is not a protocol to evaluate with, so :data:`PROTOCOLS` leaves it out.
"""

from __future__ import annotations

import pandas as pd

from .data import NUM_ACTORS
from .exceptions import ParameterError

PROTOCOLS = ("paper", "actor", "actor_cv", "emobox")
#: The protocols of several folds, each run with ``fold`` 0-5.
FOLD_PROTOCOLS = ("actor_cv", "emobox")
FINAL_PROTOCOL = "all"
SPLIT_NAMES = ("train", "validation", "test")

#: The study's split sizes (Table 1): train, validation, test clips out of 1440.
PAPER_SIZES = (960, 240, 240)
#: Actor-independent split: training, validation and test actors.
ACTOR_SPLIT = (tuple(range(1, 17)), tuple(range(17, 21)), tuple(range(21, 25)))
NUM_FOLDS = 6
#: EmoBox's RAVDESS test actors of folds 1-6 (our folds 0-5), from its
#: ``data/ravdess/fold_k/ravdess_test_fold_k.json``.
EMOBOX_TEST_ACTORS = ((1, 11, 20, 21), (4, 10, 12, 14), (8, 9, 19, 23), (3, 5, 7, 24), (2, 15, 16, 18),
                      (6, 13, 17, 22))


def _check_metadata(metadata: pd.DataFrame) -> None:
    if "actor" not in metadata or "emotion_id" not in metadata:
        raise ParameterError("metadata must have 'actor' and 'emotion_id' columns; use load_metadata()")


def _by_actors(metadata: pd.DataFrame, parts: tuple[tuple[int, ...], ...]) -> dict[str, pd.DataFrame]:
    return {name: metadata[metadata["actor"].isin(actors)] for name, actors in zip(SPLIT_NAMES, parts)}


def paper_split(metadata: pd.DataFrame, seed: int = 0) -> dict[str, pd.DataFrame]:
    """The study's random split, stratified by emotion, in its 2:1/2:1/2 proportions.

    On the full dataset this is 960/240/240; on a subset the same fractions apply.
    """
    from sklearn.model_selection import train_test_split  # deferred: scikit-learn takes 0.9 s to import

    total = len(metadata)
    test_size = round(total * PAPER_SIZES[2] / sum(PAPER_SIZES))
    validation_size = round(total * PAPER_SIZES[1] / sum(PAPER_SIZES))
    rest, test = train_test_split(
        metadata, test_size=test_size, stratify=metadata["emotion_id"], random_state=seed)
    train, validation = train_test_split(
        rest, test_size=validation_size, stratify=rest["emotion_id"], random_state=seed)
    return {name: part.sort_index() for name, part in zip(SPLIT_NAMES, (train, validation, test))}


def fold_actors(k: int = NUM_FOLDS) -> list[tuple[int, ...]]:
    """The actors of each of ``k`` folds of consecutive actors (24 / k each)."""
    if not isinstance(k, int) or k < 3 or NUM_ACTORS % k:
        raise ParameterError(
            f"k must be an integer of at least 3 that divides {NUM_ACTORS} (3, 4, 6, 8, 12, 24), got {k!r}")
    size = NUM_ACTORS // k
    return [tuple(range(i * size + 1, (i + 1) * size + 1)) for i in range(k)]


def actor_folds(metadata: pd.DataFrame, k: int = NUM_FOLDS) -> list[dict[str, pd.DataFrame]]:
    """Actor-independent cross-validation: one split per fold.

    Fold ``i`` tests on its own actors, validates on fold ``(i + 1) % k`` and
    trains on the rest, so validation never overlaps test.
    """
    folds = fold_actors(k)
    splits = []
    for i, test_actors in enumerate(folds):
        validation_actors = folds[(i + 1) % k]
        train_actors = tuple(a for f in folds if f not in (test_actors, validation_actors) for a in f)
        splits.append(_by_actors(metadata, (train_actors, validation_actors, test_actors)))
    return splits


def emobox_folds(metadata: pd.DataFrame) -> list[dict[str, pd.DataFrame]]:
    """EmoBox's six folds (see the module docstring): fold ``i`` tests on its four actors and validates on
    fold ``i + 1``'s, which EmoBox counts as training actors of fold ``i``."""
    splits = []
    for i, test_actors in enumerate(EMOBOX_TEST_ACTORS):
        validation_actors = EMOBOX_TEST_ACTORS[(i + 1) % NUM_FOLDS]
        train_actors = tuple(a for a in range(1, NUM_ACTORS + 1) if a not in (*test_actors, *validation_actors))
        splits.append(_by_actors(metadata, (train_actors, validation_actors, test_actors)))
    return splits


def fold_label(protocol: str, fold: int | None):
    """How results name a run's test part: the fold number, "test", or None for a final model."""
    if fold is not None:
        return fold
    return None if protocol == FINAL_PROTOCOL else "test"


def make_split(
    metadata: pd.DataFrame, protocol: str, seed: int = 0, fold: int | None = None
) -> dict[str, pd.DataFrame]:
    """Split the metadata by one of the protocols.

    Parameters
    ----------
    metadata : pandas.DataFrame
        From :func:`ravdess_tf.load_metadata`.
    protocol : {"paper", "actor", "actor_cv", "emobox", "all"}
        See the module docstring.
    seed : int
        Random seed of the ``paper`` split (the actor protocols are fixed).
    fold : int or None
        Required for ``actor_cv`` and ``emobox`` (0-5), not allowed otherwise.

    Returns
    -------
    dict
        ``{"train": df, "validation": df, "test": df}``, row subsets of ``metadata``
        that keep its index.
    """
    if protocol not in (*PROTOCOLS, FINAL_PROTOCOL):
        raise ParameterError(
            f"protocol must be one of {', '.join((*PROTOCOLS, FINAL_PROTOCOL))}, got {protocol!r}")
    _check_metadata(metadata)
    if protocol in FOLD_PROTOCOLS:
        if not isinstance(fold, int) or not 0 <= fold < NUM_FOLDS:
            raise ParameterError(
                f"protocol {protocol!r} needs fold in 0..{NUM_FOLDS - 1}, got {fold!r}")
        return (actor_folds(metadata) if protocol == "actor_cv" else emobox_folds(metadata))[fold]
    if fold is not None:
        raise ParameterError(f"fold is only used with the protocols {', '.join(FOLD_PROTOCOLS)}, not "
                             f"{protocol!r}; got fold={fold!r}")
    if protocol == "paper":
        return paper_split(metadata, seed=seed)
    if protocol == FINAL_PROTOCOL:
        return {"train": metadata, "validation": metadata.iloc[:0], "test": metadata.iloc[:0]}
    return _by_actors(metadata, ACTOR_SPLIT)


def sample_clips(metadata: pd.DataFrame, fraction: float, seed: int = 0) -> pd.DataFrame:
    """The same fraction of every actor's clips of each emotion: a smaller corpus for a quicker run.

    Every protocol of :func:`make_split` works on the result, with every actor
    and every emotion still in it, so a notebook or a smoke test can run its
    whole course in a fraction of the time. Its scores are not the study's.

    Parameters
    ----------
    metadata : pandas.DataFrame
        From :func:`ravdess_tf.load_metadata`.
    fraction : float
        In (0, 1]. Each actor keeps ``round(fraction * n)`` of its ``n`` clips
        of an emotion, and at least one; 1 keeps every clip.
    seed : int
        Which clips are kept.

    Returns
    -------
    pandas.DataFrame
        A row subset of ``metadata`` that keeps its index and order.

    Examples
    --------
    >>> import ravdess_tf as rt
    >>> quarter = rt.sample_clips(rt.load_metadata(), 0.25)   # doctest: +SKIP
    >>> len(quarter)                                           # doctest: +SKIP
    360
    """
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ParameterError(f"fraction must be a number in (0, 1], got {fraction!r}")
    _check_metadata(metadata)
    shuffled = metadata.sample(frac=1.0, random_state=seed)
    groups = shuffled.groupby(["actor", "emotion_id"])
    kept = groups.cumcount() < (groups["actor"].transform("size") * fraction).round().clip(lower=1)
    return metadata.loc[metadata.index.isin(shuffled.index[kept.to_numpy()])]
