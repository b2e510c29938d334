import librosa
import numpy as np
import pytest
import soundfile

import ravdess_tf
from ravdess_tf.exceptions import AudioError, ParameterError
from ravdess_tf.audio import fix_length, load_audio, load_centred
from ravdess_tf.cache import cache_key
from ravdess_tf.features import FeatureConfig, extract_features
from ravdess_tf.spectrogram import SpectrogramExtractor

from conftest import write_tone


@pytest.fixture(scope="module")
def metadata(synthetic_root):
    return ravdess_tf.load_metadata(synthetic_root)


def test_feature_config_defaults():
    config = FeatureConfig()
    assert config.shape == (128, 188)
    assert FeatureConfig(kind="mfcc").shape == (120, 188)
    assert FeatureConfig(kind="mfcc", mfcc_deltas=False, n_mfcc=20).shape == (20, 188)


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "cqt"}, "kind must be one of"),
    ({"sample_rate": 0}, "sample_rate must be a positive integer"),
    ({"n_mels": 12.5}, "n_mels must be a positive integer"),
    ({"duration": -1}, "duration must be positive"),
    ({"fmax": 9000}, "fmax <= sample_rate / 2"),
    ({"kind": "mfcc", "n_mfcc": 200}, "n_mfcc .200. cannot exceed n_mels"),
])
def test_feature_config_rejects(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        FeatureConfig(**kwargs)


def test_load_audio_downmixes_and_resamples(tmp_path):
    stereo = write_tone(tmp_path / "s.wav", 1.0, rate=44_100, channels=2)
    audio = load_audio(stereo, sr=16_000)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == 16_000
    reference, _ = librosa.load(stereo, sr=16_000, mono=True)
    assert np.abs(audio - reference).max() < 1e-4


def test_load_audio_errors(tmp_path):
    with pytest.raises(AudioError, match="missing.wav"):
        load_audio(tmp_path / "missing.wav")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00not audio at all")
    with pytest.raises(AudioError, match="corrupt.wav"):
        load_audio(corrupt)
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros(0, np.float32), 16_000)
    with pytest.raises(AudioError, match="empty.wav.*no samples"):
        load_audio(empty)
    nan = tmp_path / "nan.wav"
    soundfile.write(nan, np.full(100, np.nan, np.float32), 16_000, subtype="FLOAT")
    with pytest.raises(AudioError, match="non-finite"):
        load_audio(nan)


def test_fix_length_centres():
    audio = np.arange(10, dtype=np.float32)
    assert fix_length(audio, 4).tolist() == [3, 4, 5, 6]
    padded = fix_length(audio[:2], 5)
    assert padded.tolist() == [0, 0, 1, 0, 0] and len(padded) == 5


def test_fix_length_at_a_position():
    audio = np.arange(10, dtype=np.float32)
    assert fix_length(audio, 4, 0.0).tolist() == [0, 1, 2, 3]
    assert fix_length(audio, 4, 1.0).tolist() == [6, 7, 8, 9]
    assert fix_length(audio, 4, 0.5).tolist() == fix_length(audio, 4).tolist()
    assert fix_length(audio[:2], 4, 0.0).tolist() == [0, 0, 1, 0]  # padding stays centred


@pytest.mark.parametrize("position", [0.5, 0.0, 0.3, 1.0])
@pytest.mark.parametrize("seconds, rate, channels", [(3.7, 48_000, 1), (4.1, 44_100, 2), (2.5, 48_000, 1)])
def test_load_centred_equals_full_decode(tmp_path, seconds, rate, channels, position):
    path = write_tone(tmp_path / "clip.wav", seconds, rate=rate, channels=channels, seed=3)
    fast = load_centred(path, 16_000, 48_000, position)
    full = fix_length(load_audio(path, 16_000), 48_000, position)
    assert fast.shape == (48_000,)
    assert np.abs(fast - full).max() < 1e-4 * np.abs(full).max() + 1e-6


def test_crop_position_names_its_own_cache_and_leaves_the_centred_ones_valid(tmp_path):
    centred = FeatureConfig(n_mels=16, hop_length=1024)
    assert "crop_position" not in centred.key_fields()  # caches made before the field existed stay valid
    start = FeatureConfig(n_mels=16, hop_length=1024, crop_position=0.0)
    assert start.key_fields()["crop_position"] == 0.0 and start.tag == "logmel16+level+crop0"
    assert FeatureConfig.from_dict(start.to_dict()) == start
    path = write_tone(tmp_path / "a.wav", 4.0, seed=4)
    assert not np.allclose(SpectrogramExtractor(start).from_file(path),
                           SpectrogramExtractor(centred).from_file(path))
    with pytest.raises(ParameterError, match="crop_position must be a number in"):
        FeatureConfig(crop_position=1.5)


def test_log_mel_matches_librosa(tmp_path):
    config = FeatureConfig()
    audio = fix_length(load_audio(write_tone(tmp_path / "a.wav", 3.2, seed=1)), config.num_samples)
    ours = SpectrogramExtractor(config).log_mel(audio)
    reference = librosa.power_to_db(librosa.feature.melspectrogram(
        y=audio, sr=config.sample_rate, n_fft=config.n_fft, hop_length=config.hop_length,
        n_mels=config.n_mels))
    assert ours.shape == reference.shape == config.shape
    assert np.abs(ours - reference).max() < 0.01  # dB


def test_mfcc_and_trim(tmp_path):
    path = write_tone(tmp_path / "a.wav", 3.5, seed=2)
    config = FeatureConfig(kind="mfcc", trim_silence=True)
    features = SpectrogramExtractor(config).from_file(path)
    assert features.shape == config.shape and np.isfinite(features).all()


def test_extract_features_shape_and_cache(metadata, tmp_path):
    config = FeatureConfig()
    report = extract_features(metadata, config, cache_dir=tmp_path, progress=False, return_report=True)
    assert report.features.shape == (len(metadata), *config.shape)
    assert report.features.dtype == np.float32 and np.isfinite(report.features).all()
    assert report.cache_path.is_file() and report.skipped == []
    mtime = report.cache_path.stat().st_mtime_ns
    again = extract_features(metadata, config, cache_dir=tmp_path, progress=False)
    assert np.array_equal(again, report.features)
    assert report.cache_path.stat().st_mtime_ns == mtime  # read, not rewritten
    assert list(tmp_path.iterdir()) == [report.cache_path]  # no temporary files left
    serial = extract_features(metadata.head(3), config, use_cache=False, n_jobs=1, progress=False)
    assert np.allclose(serial, report.features[:3])


def test_cache_key_depends_on_config_and_files(metadata):
    paths = list(metadata["path"])
    key = cache_key(paths, FeatureConfig())
    assert key == cache_key(paths, FeatureConfig())
    assert key != cache_key(paths, FeatureConfig(n_mels=64))
    assert key != cache_key(paths[:-1], FeatureConfig())


def test_extract_features_errors_and_skip(metadata, tmp_path):
    broken = metadata.copy()
    bad = tmp_path / "03-01-01-01-01-01-01.wav"
    bad.write_bytes(b"not audio")
    broken.loc[broken.index[1], "path"] = str(bad)
    with pytest.raises(AudioError, match="03-01-01-01-01-01-01.wav"):
        extract_features(broken, cache_dir=tmp_path / "c", progress=False)
    with pytest.warns(UserWarning, match="Skipped 1 of"):
        report = extract_features(broken, cache_dir=tmp_path / "c", progress=False, on_error="skip",
                                  return_report=True)
    assert len(report.features) == len(broken) - 1 == len(report.kept)
    assert report.skipped[0][0] == str(bad) and report.cache_path is None
    assert list((tmp_path / "c").iterdir()) == []  # nothing cached from a failed or partial run
    with pytest.raises(ParameterError, match="on_error must be"):
        extract_features(metadata, on_error="ignore")
    with pytest.raises(ParameterError, match="needs a 'path' column"):
        extract_features(metadata.drop(columns="path"))
    with pytest.raises(ParameterError, match="n_jobs"):
        extract_features(metadata, n_jobs=0)


@pytest.mark.realdata
def test_real_stereo_clips_load_as_mono(real_metadata):
    stereo = ["03-01-02-01-01-02-01", "03-01-08-01-02-02-01", "03-01-02-01-02-02-05",
              "03-01-03-01-02-01-20", "03-01-06-01-01-02-20"]
    rows = real_metadata.set_index("clip_id").loc[stereo]
    for path in rows["path"]:
        assert soundfile.info(path).channels == 2
        audio = load_audio(path)
        assert audio.ndim == 1 and np.isfinite(audio).all() and len(audio) > 2.9 * 16_000


@pytest.mark.realdata
def test_real_features(real_metadata, tmp_path):
    sample = real_metadata.iloc[::40]
    features = extract_features(sample, cache_dir=tmp_path, progress=False)
    assert features.shape == (len(sample), 128, 188)
    assert np.isfinite(features).all()
    assert features.std() > 1.0  # real spectra, not silence
