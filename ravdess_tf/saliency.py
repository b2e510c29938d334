"""What a model listens to: occlusion saliency over time.

Occlusion asks the model itself: silence one short stretch of the clip, ask
again, and see how much the probability of its answer falls. A stretch whose
silencing costs the answer a lot is one the answer rests on. It needs no
gradients, so it works for every model the package runs (the NumPy runtime
included) and for every front-end (log-mel, MFCC, Whisper), at the price of
one prediction per stretch.

Examples
--------
>>> from ravdess_tf.inference import load_pretrained
>>> from ravdess_tf.saliency import occlusion_saliency
>>> predictor = load_pretrained("logmel")  # doctest: +SKIP
>>> saliency = occlusion_saliency(predictor, audio)  # doctest: +SKIP
>>> saliency.emotion, saliency.importance.shape  # doctest: +SKIP
('happy', (12,))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import EMOTIONS
from .exceptions import ParameterError
from .audio import prepare_clip

#: Seconds silenced at a time: about one syllable, so that 12 stretches cover a 3 s clip.
BAND_SECONDS = 0.25


@dataclass(frozen=True)
class Saliency:
    """The result of :func:`occlusion_saliency`.

    Attributes
    ----------
    clip : numpy.ndarray
        The samples the model read, shape ``(samples,)``: the centred,
        level-normalised clip (see :func:`ravdess_tf.features.prepare_clip`).
    sample_rate : int
        Of ``clip``, in Hz.
    emotion : str
        The model's answer on the whole clip.
    probability : float
        Its probability on the whole clip.
    starts : numpy.ndarray
        Start of each silenced stretch in seconds from the clip's start, shape ``(bands,)``.
    importance : numpy.ndarray
        Shape ``(bands,)``: how much ``emotion``'s probability falls when that
        stretch is silenced (negative where silencing makes the answer surer).
    """

    clip: np.ndarray
    sample_rate: int
    emotion: str
    probability: float
    starts: np.ndarray
    importance: np.ndarray

    @property
    def band_seconds(self) -> float:
        """Length of each stretch in seconds."""
        return float(self.starts[1] - self.starts[0]) if len(self.starts) > 1 else len(self.clip) / self.sample_rate


def occlusion_saliency(predictor, audio: np.ndarray, band_seconds: float = BAND_SECONDS) -> Saliency:
    """How much each stretch of a clip matters to a model's answer.

    Parameters
    ----------
    predictor : ravdess_tf.inference.EmotionPredictor
        A model that reads one clip at a time (not a speaker-normalised one).
    audio : numpy.ndarray
        Mono audio at the model's sample rate (16 kHz), shape ``(samples,)``;
        centred and level-normalised here as the model reads it.
    band_seconds : float
        Length of each silenced stretch, in seconds (default :data:`BAND_SECONDS`).

    Returns
    -------
    Saliency
        One importance per stretch; ``len(clip) / (band_seconds * sample_rate)``
        stretches, the last one possibly shorter.
    """
    config = predictor.feature_config
    if not 0 < band_seconds <= config.duration:
        raise ParameterError(f"band_seconds must be in (0, {config.duration}] (the clip's length), got {band_seconds}")
    clip = prepare_clip(np.asarray(audio, np.float32), config)
    band = max(1, int(round(band_seconds * config.sample_rate)))
    starts = np.arange(0, len(clip), band)
    occluded = []
    for start in starts:
        silenced = clip.copy()
        silenced[start:start + band] = 0.0
        occluded.append(silenced)
    probabilities = predictor.predict_audio([clip, *occluded])
    answer = int(np.argmax(probabilities[0]))
    return Saliency(clip=clip, sample_rate=config.sample_rate, emotion=EMOTIONS[answer],
                    probability=float(probabilities[0, answer]), starts=starts / config.sample_rate,
                    importance=probabilities[0, answer] - probabilities[1:, answer])
