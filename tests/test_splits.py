import pandas as pd
import pytest

import ravdess_tf
from ravdess_tf import splits
from ravdess_tf.exceptions import ParameterError


@pytest.fixture(scope="module")
def metadata(full_names_root):
    return ravdess_tf.load_metadata(full_names_root)


def _actors(part):
    return set(part["actor"])


def test_paper_split_sizes_and_stratification(metadata):
    split = ravdess_tf.make_split(metadata, "paper", seed=0)
    assert [len(split[name]) for name in splits.SPLIT_NAMES] == [960, 240, 240]
    joined = pd.concat(split.values())
    assert joined.index.is_unique and len(joined) == 1440
    for name, part in split.items():
        share = part["emotion"].value_counts(normalize=True)
        assert share["neutral"] == pytest.approx(96 / 1440, abs=0.01), name
        assert share.drop("neutral").sub(192 / 1440).abs().max() < 0.01, name
    # every actor is seen in training: this split does not test new speakers
    assert _actors(split["test"]) <= _actors(split["train"])


def test_paper_split_seeded(metadata):
    first = ravdess_tf.make_split(metadata, "paper", seed=0)["test"].index
    assert first.equals(ravdess_tf.make_split(metadata, "paper", seed=0)["test"].index)
    assert not first.equals(ravdess_tf.make_split(metadata, "paper", seed=1)["test"].index)


def test_actor_split(metadata):
    split = ravdess_tf.make_split(metadata, "actor")
    assert [len(split[name]) for name in splits.SPLIT_NAMES] == [960, 240, 240]
    assert _actors(split["train"]) == set(range(1, 17))
    assert _actors(split["validation"]) == set(range(17, 21))
    assert _actors(split["test"]) == set(range(21, 25))


@pytest.mark.parametrize("fold", range(6))
def test_actor_cv_folds_disjoint(metadata, fold):
    split = ravdess_tf.make_split(metadata, "actor_cv", fold=fold)
    train, validation, test = (_actors(split[name]) for name in splits.SPLIT_NAMES)
    assert test == set(range(4 * fold + 1, 4 * fold + 5))
    assert not (train & validation or train & test or validation & test)
    assert len(train) == 16 and len(validation) == len(test) == 4
    assert [len(split[name]) for name in splits.SPLIT_NAMES] == [960, 240, 240]


def test_actor_folds_cover_every_actor_once_as_test(metadata):
    tests = [_actors(split["test"]) for split in splits.actor_folds(metadata)]
    assert sorted(a for actors in tests for a in actors) == list(range(1, 25))
    assert [len(f) for f in splits.fold_actors(4)] == [6] * 4


#: EmoBox's test actors, as its data/ravdess/fold_k/ravdess_test_fold_k.json files list them (folds 1-6).
EMOBOX_PUBLISHED = {1: {1, 11, 20, 21}, 2: {4, 10, 12, 14}, 3: {8, 9, 19, 23}, 4: {3, 5, 7, 24},
                    5: {2, 15, 16, 18}, 6: {6, 13, 17, 22}}


@pytest.mark.parametrize("fold", range(6))
def test_emobox_folds_test_emoboxs_actors_and_validate_on_its_training_actors(metadata, fold):
    split = ravdess_tf.make_split(metadata, "emobox", fold=fold)
    train, validation, test = (_actors(split[name]) for name in splits.SPLIT_NAMES)
    assert test == EMOBOX_PUBLISHED[fold + 1]
    emobox_training = set(range(1, 25)) - test
    assert validation <= emobox_training and train | validation == emobox_training  # nothing of test chooses
    assert validation == EMOBOX_PUBLISHED[(fold + 1) % 6 + 1]
    assert not (train & validation)
    assert [len(split[name]) for name in splits.SPLIT_NAMES] == [960, 240, 240]  # 1200 / 240 in EmoBox


def test_emobox_folds_test_every_actor_once(metadata):
    tests = [_actors(split["test"]) for split in splits.emobox_folds(metadata)]
    assert sorted(a for actors in tests for a in actors) == list(range(1, 25))


@pytest.mark.parametrize("kwargs, message", [
    ({"protocol": "random"}, "protocol must be one of paper, actor, actor_cv, emobox, all"),
    ({"protocol": "emobox", "fold": -1}, "needs fold in 0..5"),
    ({"protocol": "actor_cv"}, "needs fold in 0..5"),
    ({"protocol": "actor_cv", "fold": 6}, "needs fold in 0..5"),
    ({"protocol": "paper", "fold": 1}, "fold is only used with the protocols actor_cv, emobox"),
])
def test_make_split_errors(metadata, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        ravdess_tf.make_split(metadata, **kwargs)


def test_fold_actors_rejects_bad_k():
    with pytest.raises(ParameterError, match="divides 24"):
        splits.fold_actors(5)


def test_final_protocol_trains_on_everything(metadata):
    split = ravdess_tf.make_split(metadata, "all")
    assert len(split["train"]) == 1440 and len(split["validation"]) == len(split["test"]) == 0
    assert "all" not in splits.PROTOCOLS  # not a protocol to evaluate with


def test_sample_clips_keeps_a_share_of_every_actor_and_emotion(metadata):
    quarter = ravdess_tf.sample_clips(metadata, 0.25, seed=1)
    counts = quarter.groupby(["actor", "emotion_id"]).size()
    assert len(counts) == 24 * 8  # every actor, every emotion
    assert set(counts[counts.index.get_level_values("emotion_id") == 0]) == {1}  # 4 neutral clips an actor
    assert set(counts[counts.index.get_level_values("emotion_id") > 0]) == {2}  # 8 of each other emotion
    assert quarter.index.is_monotonic_increasing and quarter.index.isin(metadata.index).all()
    assert ravdess_tf.sample_clips(metadata, 0.25, seed=1).equals(quarter)
    assert not ravdess_tf.sample_clips(metadata, 0.25, seed=2).equals(quarter)
    # every protocol splits it, test actors never heard in training
    for protocol, fold in (("paper", None), ("actor", None), ("actor_cv", 3), ("emobox", 3)):
        split = ravdess_tf.make_split(quarter, protocol, fold=fold)
        assert sum(map(len, split.values())) == len(quarter)
        if protocol != "paper":
            assert not _actors(split["train"]) & _actors(split["test"])


def test_sample_clips_of_everything_is_the_metadata_itself(metadata):
    """The notebooks' default (FRACTION = 1.0) changes nothing they show."""
    pd.testing.assert_frame_equal(ravdess_tf.sample_clips(metadata, 1.0), metadata)
    assert len(ravdess_tf.sample_clips(metadata, 0.01)) == 24 * 8  # at least one clip of each


@pytest.mark.parametrize("fraction", [0, -0.5, 1.5, "0.5", True, None])
def test_sample_clips_rejects_a_fraction_outside_0_1(metadata, fraction):
    with pytest.raises(ParameterError, match=r"fraction must be a number in \(0, 1\]"):
        ravdess_tf.sample_clips(metadata, fraction)
