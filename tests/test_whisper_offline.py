"""The Keras Whisper encoder at a tiny size, without the real checkpoint, faster-whisper or data.

A random encoder's tensors are written as a CTranslate2 ``model.bin`` (binary version 6, as
``ctranslate2.specs.ModelSpec._serialize`` lays it out), read back, loaded into the Keras encoder,
and the hidden states compared with the same computation in NumPy (:class:`NumpyWhisperEncoder`).
"""

import numpy as np
import pytest

from ravdess_tf.exceptions import ParameterError
from ravdess_tf.runtime import NumpyWhisperEncoder
from ravdess_tf.whisper import WhisperSpec, build_whisper_encoder, load_encoder_weights, read_ctranslate2

from conftest import write_ctranslate2

#: Two blocks of width 16 with two heads, on 8 mel bands: a Whisper in miniature.
TINY = WhisperSpec(layers=2, width=16, heads=2, mel_bins=8, hub_name="")


def random_encoder_tensors(spec: WhisperSpec, seed: int = 0) -> dict[str, np.ndarray]:
    """An encoder's tensors under CTranslate2's names and layouts: dense ``(out, in)``, conv ``(out, in, k)``,
    query, key and value fused into one ``(3 * width, width)`` projection."""
    rng = np.random.default_rng(seed)
    width = spec.width

    def normal(*shape, scale=0.2):
        return (scale * rng.standard_normal(shape)).astype(np.float32)

    tensors = {"encoder/conv1/weight": normal(width, spec.mel_bins, 3), "encoder/conv1/bias": normal(width),
               "encoder/conv2/weight": normal(width, width, 3), "encoder/conv2/bias": normal(width),
               "encoder/position_encodings/encodings": normal(1500, width),
               "encoder/layer_norm/gamma": 1 + normal(width), "encoder/layer_norm/beta": normal(width)}
    for index in range(spec.layers):
        prefix = f"encoder/layer_{index}"
        tensors |= {
            f"{prefix}/self_attention/linear_0/weight": normal(3 * width, width),
            f"{prefix}/self_attention/linear_0/bias": normal(3 * width),
            f"{prefix}/self_attention/linear_1/weight": normal(width, width),
            f"{prefix}/self_attention/linear_1/bias": normal(width),
            f"{prefix}/self_attention/layer_norm/gamma": 1 + normal(width),
            f"{prefix}/self_attention/layer_norm/beta": normal(width),
            f"{prefix}/ffn/linear_0/weight": normal(4 * width, width), f"{prefix}/ffn/linear_0/bias": normal(4 * width),
            f"{prefix}/ffn/linear_1/weight": normal(width, 4 * width), f"{prefix}/ffn/linear_1/bias": normal(width),
            f"{prefix}/ffn/layer_norm/gamma": 1 + normal(width), f"{prefix}/ffn/layer_norm/beta": normal(width)}
    return tensors


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-whisper") / "model.bin"
    tensors = random_encoder_tensors(TINY)
    write_ctranslate2(path, tensors)
    return path, tensors


def test_checkpoint_round_trips(tiny_checkpoint):
    path, tensors = tiny_checkpoint
    read = read_ctranslate2(path, prefix="encoder/")
    assert read.keys() == tensors.keys()
    for name, array in tensors.items():
        np.testing.assert_array_equal(read[name], array)


@pytest.mark.parametrize("frames", [20, 33])  # an odd input length: the stride-2 convolution's edge
def test_keras_encoder_matches_numpy(tiny_checkpoint, frames):
    path, _ = tiny_checkpoint
    tensors = read_ctranslate2(path, prefix="encoder/")
    encoder = build_whisper_encoder(TINY)
    load_encoder_weights(encoder, tensors)
    mel = np.random.default_rng(1).standard_normal((frames, TINY.mel_bins)).astype(np.float32)
    outputs = [np.asarray(state)[0] for state in encoder.predict_on_batch(mel[None])]
    assert len(outputs) == TINY.layers + 1
    assert outputs[0].shape == ((frames - 1) // 2 + 1, TINY.width)

    reference = NumpyWhisperEncoder(tensors, TINY.heads)
    layers = list(range(TINY.layers + 1))
    expected = reference.hidden_states(mel, layers)
    # The NumPy encoder normalises the inner states per frame (as WhisperEmbedder does); the last one
    # passes through the final layer norm in both.
    from ravdess_tf.runtime import normalise_frames

    for layer in layers:
        ours = outputs[layer] if layer == TINY.layers else normalise_frames(outputs[layer])
        np.testing.assert_allclose(ours, expected[layer], atol=2e-4, err_msg=f"hidden state {layer}")


def test_weights_of_another_depth_are_refused(tiny_checkpoint):
    path, _ = tiny_checkpoint
    deeper = build_whisper_encoder(WhisperSpec(layers=3, width=16, heads=2, mel_bins=8, hub_name=""))
    with pytest.raises(ParameterError, match="has 2 encoder layers; this encoder has 3"):
        load_encoder_weights(deeper, read_ctranslate2(path, prefix="encoder/"))


def test_float16_checkpoints_are_read_as_float32(tmp_path):
    tensors = random_encoder_tensors(TINY, seed=2)
    write_ctranslate2(tmp_path / "model.bin", {name: array.astype(np.float16) for name, array in tensors.items()})
    read = read_ctranslate2(tmp_path, prefix="encoder/conv1/")
    assert read["encoder/conv1/weight"].dtype == np.float32
    np.testing.assert_array_equal(read["encoder/conv1/weight"], tensors["encoder/conv1/weight"].astype(np.float16))


def test_an_empty_or_cut_file_is_refused(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(ParameterError, match="is empty"):
        read_ctranslate2(tmp_path)
    write_ctranslate2(tmp_path / "model.bin", random_encoder_tensors(TINY))
    (tmp_path / "model.bin").write_bytes((tmp_path / "model.bin").read_bytes()[:1000])
    with pytest.raises(ParameterError, match="not a readable CTranslate2"):
        read_ctranslate2(tmp_path)
