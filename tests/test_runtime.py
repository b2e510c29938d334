"""The NumPy runtime gives the probabilities and hidden states Keras gives (the .keras files stay the truth)."""

import importlib.util

import numpy as np
import pytest

from ravdess_tf.inference import PRETRAINED, load_run
from ravdess_tf.runtime import NumpyModel, NumpyWhisperEncoder, read_keras_file, supports

from conftest import write_tone


def blas_threads() -> set[int]:
    """The thread counts of the BLAS libraries this process has loaded."""
    from threadpoolctl import threadpool_info

    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def skip_unless_blas_has_two_threads() -> None:
    if not blas_threads() or max(blas_threads()) < 2:
        pytest.skip("BLAS runs on one thread here already")


@pytest.mark.parametrize("name", ["logmel", "whisper"])
def test_bundled_models_give_keras_probabilities(name):
    import keras

    if tuple(int(part) for part in keras.__version__.split(".")[:2]) < (3, 15):
        pytest.skip(f"the bundled .keras files were saved by Keras 3.15; Keras {keras.__version__} (the newest on "
                    "Python 3.10 is 3.12) cannot read their initializer configs. The NumPy runtime reads them anywhere")

    from ravdess_tf.models import register_custom_layers

    register_custom_layers()
    path = PRETRAINED[name] / "best.keras"
    model = keras.models.load_model(path)
    x = np.random.default_rng(0).standard_normal((4, *model.input.shape[1:])).astype(np.float32)
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(NumpyModel(path).predict(x), expected, atol=1e-5)


def test_transformer_of_any_size_and_odd_length(tmp_path):
    """Another width, depth and an odd frame count (the strided embedding pads on the right)."""
    from ravdess_tf.models import build_model

    model = build_model("transformer", (24, 37, 1), 8, width=32, depth=3, heads=2, frame_stride=3)
    model.save(tmp_path / "m.keras")
    x = np.random.default_rng(1).standard_normal((2, 24, 37, 1)).astype(np.float32)
    np.testing.assert_allclose(NumpyModel(tmp_path / "m.keras").predict(x), model.predict(x, verbose=0), atol=1e-5)
    config, weights = read_keras_file(tmp_path / "m.keras")
    for layer in model.layers:
        if layer.weights and layer.__class__.__name__ != "MultiHeadAttention":
            for ours, theirs in zip(weights[layer.name], layer.get_weights()):
                np.testing.assert_array_equal(ours, theirs)
    assert supports(config)


def test_other_models_go_to_keras(tmp_path):
    from ravdess_tf.models import build_model

    build_model("lstm", (16, 20, 1), 8, units=8, depth=1).save(tmp_path / "lstm.keras")
    config, _ = read_keras_file(tmp_path / "lstm.keras")
    assert not supports(config)
    with pytest.raises(ValueError, match="transformer and the linear pooled head only"):
        NumpyModel(tmp_path / "lstm.keras")


def _random_whisper_tensors(width=64, heads=4, layers=3, mel_bins=80, seed=0):
    """A tiny random Whisper encoder in CTranslate2's tensor names and layouts."""
    rng = np.random.default_rng(seed)

    def r(*shape, scale=0.1):
        return (scale * rng.standard_normal(shape)).astype(np.float32)

    t = {"encoder/conv1/weight": r(width, mel_bins, 3), "encoder/conv1/bias": r(width),
         "encoder/conv2/weight": r(width, width, 3), "encoder/conv2/bias": r(width),
         "encoder/position_encodings/encodings": r(1500, width),
         "encoder/layer_norm/gamma": 1 + r(width), "encoder/layer_norm/beta": r(width)}
    for i in range(layers):
        p = f"encoder/layer_{i}"
        t.update({f"{p}/self_attention/linear_0/weight": r(3 * width, width), f"{p}/self_attention/linear_0/bias": r(3 * width),
                  f"{p}/self_attention/linear_1/weight": r(width, width), f"{p}/self_attention/linear_1/bias": r(width),
                  f"{p}/self_attention/layer_norm/gamma": 1 + r(width), f"{p}/self_attention/layer_norm/beta": r(width),
                  f"{p}/ffn/layer_norm/gamma": 1 + r(width), f"{p}/ffn/layer_norm/beta": r(width),
                  f"{p}/ffn/linear_0/weight": r(4 * width, width), f"{p}/ffn/linear_0/bias": r(4 * width),
                  f"{p}/ffn/linear_1/weight": r(width, 4 * width), f"{p}/ffn/linear_1/bias": r(width)})
    return t


def test_numpy_whisper_encoder_matches_the_keras_encoder(monkeypatch):
    """A tiny random Whisper (width 64, 3 blocks) in both: every hidden state agrees."""
    from ravdess_tf import whisper
    from ravdess_tf.whisper import WhisperSpec, build_whisper_encoder, load_encoder_weights, normalise_frames

    monkeypatch.setitem(whisper.WHISPER_MODELS, "tiny-test", WhisperSpec(layers=3, width=64, heads=4, mel_bins=80,
                                                                         hub_name="none"))
    tensors = _random_whisper_tensors()
    encoder = build_whisper_encoder("tiny-test")
    load_encoder_weights(encoder, tensors)
    mel = np.random.default_rng(2).standard_normal((101, 80)).astype(np.float32)
    keras_states = [np.asarray(s)[0] for s in encoder.predict_on_batch(mel[None])]
    ours = NumpyWhisperEncoder(tensors, heads=4).hidden_states(mel, [0, 1, 2, 3])
    for layer, state in enumerate(ours):
        expected = keras_states[layer] if layer == 3 else normalise_frames(keras_states[layer])
        assert state.shape == (51, 64)
        np.testing.assert_allclose(state, expected, atol=2e-4, err_msg=f"layer {layer}")


@pytest.mark.skipif(importlib.util.find_spec("faster_whisper") is None, reason='needs pip install -e ".[whisper]"')
def test_whisper_predictor_same_in_numpy_and_keras(tmp_path):
    clip = write_tone(tmp_path / "clip.wav", 3.2, rate=16_000, seed=3)
    numpy_answer = load_run(PRETRAINED["whisper"], runtime="numpy").predict([clip])
    keras_answer = load_run(PRETRAINED["whisper"], runtime="keras").predict([clip])
    emotions = [c for c in numpy_answer.columns if c not in ("path", "emotion", "no_speech", "seconds", "windows")]
    np.testing.assert_allclose(numpy_answer[emotions].to_numpy(), keras_answer[emotions].to_numpy(), atol=2e-3)


def test_the_model_runs_its_products_on_one_blas_thread_unless_told_otherwise(monkeypatch):
    """Small products: one thread is as fast on an idle CPU and far faster beside a busy process
    (benchmarks/bench_runtime_threads.py). The limit holds inside predict only."""
    from threadpoolctl import threadpool_limits

    skip_unless_blas_has_two_threads()
    model = NumpyModel(PRETRAINED["logmel"] / "best.keras")
    seen = []
    transformer = model._transformer
    monkeypatch.setattr(model, "_transformer", lambda frames: seen.append(blas_threads()) or transformer(frames))
    x = np.random.default_rng(0).standard_normal((2, 80, 121, 1)).astype(np.float32)
    with threadpool_limits(limits=2, user_api="blas"):
        expected = model.predict(x)
        assert blas_threads() == {2}  # restored after predict
        model.blas_threads = None
        np.testing.assert_allclose(model.predict(x), expected, atol=1e-6)
    assert seen == [{1}, {2}]


def test_two_predictions_at_once_take_turns_and_leave_blas_as_they_found_it(monkeypatch):
    """The thread limit is process-wide: a second prediction entering while the first holds it
    would restore the first's one thread on exit, for good."""
    import threading
    import time

    from threadpoolctl import threadpool_limits

    skip_unless_blas_has_two_threads()
    model = NumpyModel(PRETRAINED["logmel"] / "best.keras")
    entered, release = [], threading.Event()
    transformer = model._transformer

    def held_transformer(frames):
        entered.append(threading.current_thread().name)
        if len(entered) == 1:
            release.wait(timeout=30)
        return transformer(frames)

    monkeypatch.setattr(model, "_transformer", held_transformer)
    x = np.random.default_rng(0).standard_normal((1, 80, 121, 1)).astype(np.float32)
    with threadpool_limits(limits=2, user_api="blas"):
        first = threading.Thread(target=model.predict, args=(x,), name="first")
        second = threading.Thread(target=model.predict, args=(x,), name="second")
        first.start()
        deadline = time.monotonic() + 30
        while not entered and time.monotonic() < deadline:
            time.sleep(0.01)
        assert entered, "the first prediction never reached the model"
        second.start()
        time.sleep(0.3)
        try:
            assert entered == ["first"]  # the second waits for the first to finish
        finally:
            release.set()
            first.join(30)
            second.join(30)
        assert entered == ["first", "second"]
        assert blas_threads() == {2}
