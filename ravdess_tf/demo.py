"""A live demo in the browser: record or drop a file, see the emotion over time and what the model heard.

Two layers, so that a notebook, a test and the command line share one logic:

- :class:`Demo` answers one recording with a bundled model (or a run
  folder) as plain data, a :class:`DemoAnswer`: the message shown, the
  probabilities, the emotion over time of a long recording, and the
  spectrogram of what the model heard with its occlusion saliency
  (:mod:`ravdess_tf.saliency`). No web library is needed for it.
- :func:`build_app` wraps it in a Gradio page (``pip install "ravdess-tf[demo]"``),
  :func:`serve` starts that page (``ravdess-tf demo``).

Examples
--------
In a notebook, the page inline:

>>> from ravdess_tf.demo import build_app
>>> build_app().launch()  # doctest: +SKIP

Without a browser:

>>> from ravdess_tf.demo import Demo
>>> Demo().answer("03-01-03-02-01-01-12.flac").emotion  # doctest: +SKIP
'happy'
"""

from __future__ import annotations

import logging
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import EMOTIONS
from .exceptions import AudioError, ParameterError
from .audio import load_audio
from .inference import (MIN_SECONDS, NO_SPEECH_DBFS, PRETRAINED, PRETRAINED_DESCRIPTIONS, WINDOW_HOP,
                        choose_runtime, file_answer, load_pretrained, load_run, whisper_installed)

logger = logging.getLogger(__name__)


#: Seconds: longer recordings are refused with a pointer to ``ravdess-tf predict --timeline``, which
#: reads files of any length. Two minutes is 79 windows, a few seconds of work for either bundled model.
MAX_SECONDS = 120.0
#: Where the page listens unless told otherwise: this computer only.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
#: What the page says before anything is recorded or dropped.
PROMPT = "Record with the microphone or drop an audio file (WAV, FLAC, OGG), then press **Recognise**."


@dataclass
class DemoAnswer:
    """What the page shows for one recording.

    Attributes
    ----------
    message : str
        Markdown: the answer and which model gave it, or why there is none.
    emotion : str or None
        The answer; None without one (no recording, no speech, unreadable, too long).
    probabilities : dict of str to float
        One per emotion (empty without an answer).
    heard : matplotlib.figure.Figure or None
        :func:`ravdess_tf.plots.plot_saliency` of the clip the model read (of
        the surest window of a long recording).
    timeline : matplotlib.figure.Figure or None
        :func:`ravdess_tf.plots.plot_timeline`, for recordings read in several windows.
    """

    message: str
    emotion: str | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    heard: object = None
    timeline: object = None


def available_models(extra_runs=()) -> dict[str, str]:
    """The models the demo can switch between: ``{label: key}``.

    The bundled models (Whisper first when ``ravdess-tf[whisper]`` is
    installed: it is the better one on new speakers), then each run folder of
    ``extra_runs`` under its own path.
    """
    names = ["whisper", "logmel"] if whisper_installed() else ["logmel"]
    models = {PRETRAINED_DESCRIPTIONS[name]: name for name in names}
    for run in extra_runs:
        choose_runtime(run)  # a clear error now for a folder that is not a finished run
        if json.loads((Path(run) / "config.json").read_text())["train"].get("speaker_normalization"):
            raise ParameterError(f"{run} normalises each speaker over several of their clips; the demo answers "
                                 "one recording at a time: give a run trained without speaker normalisation")
        models[f"run {run}"] = str(run)
    return models


class Demo:
    """Answers recordings; each model is loaded once, on first use.

    Parameters
    ----------
    extra_runs : sequence of path
        Run folders from ``ravdess-tf train`` offered beside the bundled models.
    saliency : bool
        Compute the occlusion saliency (one prediction per 0.25 s of the clip
        read: about 13 more predictions per answer).
    """

    def __init__(self, extra_runs=(), saliency: bool = True):
        self.models = available_models(extra_runs)
        self.saliency = saliency
        self._loaded = {}

    @property
    def default_model(self) -> str:
        """The key of the model answering when none is chosen: the first of :attr:`models`."""
        return next(iter(self.models.values()))

    def predictor(self, key: str):
        """The loaded model for a key of :attr:`models` (a bundled model's name or a run folder)."""
        if key not in self.models.values():
            raise ParameterError(f"unknown model {key!r}; the demo offers: {', '.join(self.models.values())}")
        if key not in self._loaded:
            self._loaded[key] = load_pretrained(key) if key in PRETRAINED else load_run(key)
        return self._loaded[key]

    def answer(self, path, model: str | None = None) -> DemoAnswer:
        """Answer the recording at ``path`` with the model ``model`` (a key of :attr:`models`).

        Never raises for a bad recording: an unreadable, silent, too long or
        missing one gets a :class:`DemoAnswer` whose message says what to do.
        """
        if path is None:
            return DemoAnswer(PROMPT)
        predictor = self.predictor(model or self.default_model)
        name = Path(path).name
        sr = predictor.feature_config.sample_rate
        try:
            audio = load_audio(path, sr)
        except AudioError as error:
            return DemoAnswer(f"**Could not read {name}.** {str(error).rstrip('.')}. Try a WAV, FLAC or OGG file, or record again.")
        seconds = len(audio) / sr
        if seconds > MAX_SECONDS:
            return DemoAnswer(f"**{name} lasts {seconds:.0f} s**; the demo reads up to {MAX_SECONDS:.0f} s. Cut it, "
                              f"or run `ravdess-tf predict --timeline emotions.csv {name}`, which reads any length.")
        timeline = predictor.audio_timeline(audio)
        emotion, probabilities = file_answer(timeline)
        notes = []
        if seconds < MIN_SECONDS:
            notes.append(f"Only {seconds:.2f} s of audio: the models learned from 3 s clips, so this answer is "
                         "unreliable. Say a whole sentence.")
        if emotion is None:
            return DemoAnswer("\n\n".join([
                f"**No speech found** in {name}: it is silent or near-silent (its loudest moments stay below "
                f"{NO_SPEECH_DBFS:.0f} dBFS), so no emotion is given. Speak closer to the microphone, or try "
                "another file.", *notes]))
        spoken = timeline[timeline["speech"]]
        how = (f"the mean of {len(spoken)} windows of {predictor.feature_config.duration:g} s, "
               f"{predictor.feature_config.duration * WINDOW_HOP:g} s apart" if len(timeline) > 1
               else f"one centred {predictor.feature_config.duration:g} s clip")
        message = (f"## {emotion} ({probabilities[EMOTIONS.index(emotion)]:.2f})\n\n"
                   f"Answered by the **{self.label(model)}** from {how}.")
        heard_in_windows = list(dict.fromkeys(spoken["emotion"]))
        if len(heard_in_windows) > 1:
            notes.append(f"The windows disagree ({', '.join(heard_in_windows)}): the emotion over time is below.")
        return DemoAnswer("\n\n".join([message, *notes]), emotion=emotion,
                          probabilities=dict(zip(EMOTIONS, map(float, probabilities))),
                          heard=self._heard(predictor, audio, timeline) if self.saliency else None,
                          timeline=self._timeline(timeline) if len(timeline) > 1 else None)

    def label(self, model: str | None) -> str:
        """The label the page shows for a model key."""
        key = model or self.default_model
        return next(label for label, value in self.models.items() if value == key)

    @staticmethod
    def _heard(predictor, audio, timeline):
        from .inference import windows
        from .plots import plot_saliency
        from .saliency import occlusion_saliency

        # The window the model is surest of: its saliency says most about the answer.
        parts = windows(audio, predictor.feature_config)
        surest = int(timeline[list(EMOTIONS)].max(axis=1).fillna(-1).to_numpy().argmax())
        start, end, samples = parts[surest]
        figure = plot_saliency(occlusion_saliency(predictor, samples))
        if len(parts) > 1:
            figure.axes[0].set_xlabel(f"time in the window {start:.1f}-{end:.1f} s, the one the model is surest of (s)")
        return figure

    @staticmethod
    def _timeline(timeline):
        from .plots import plot_timeline

        return plot_timeline(timeline)


def figure_image(figure) -> np.ndarray:
    """A Matplotlib figure as an RGB array, shape ``(height, width, 3)``; the figure is closed."""
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")  # tight: labels outside the axes kept
    plt.close(figure)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


def build_app(extra_runs=(), saliency: bool = True):
    """The demo page as a ``gradio.Blocks``: ``build_app().launch()`` shows it (inline in a notebook).

    Parameters
    ----------
    extra_runs, saliency
        See :class:`Demo`.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # a demo of local models sends nothing anywhere
    try:
        import gradio as gr
    except ImportError as error:
        raise ParameterError('The demo needs Gradio: pip install "ravdess-tf[demo]"') from error
    demo = Demo(extra_runs, saliency=saliency)

    def respond(path, model):
        answer = demo.answer(path, model)
        images = [figure_image(f) if f is not None else None for f in (answer.heard, answer.timeline)]
        return (answer.message, answer.probabilities or None, images[0],
                gr.Image(value=images[1], visible=images[1] is not None))

    with gr.Blocks(title="ravdess-tf: emotion in speech") as app:
        gr.Markdown("# Emotion in speech\nA model trained on the 24 actors of RAVDESS (English, acted) guesses "
                    f"one of {len(EMOTIONS)} emotions: {', '.join(EMOTIONS)}. It hears how a thing is said, "
                    "not what is said.")
        with gr.Row():
            with gr.Column():
                recording = gr.Audio(sources=["microphone", "upload"], type="filepath", label="Your recording",
                                     elem_id="recording")
                model = gr.Radio(list(demo.models.items()), value=demo.default_model, label="Model",
                                 elem_id="model")
                button = gr.Button("Recognise", variant="primary", elem_id="recognise")
            with gr.Column():
                message = gr.Markdown(PROMPT, elem_id="answer")
                probabilities = gr.Label(num_top_classes=len(EMOTIONS), label="Probabilities",
                                         elem_id="probabilities")
        # The figures carry their own titles; Gradio's label would cover them.
        heard = gr.Image(label="What the model heard", show_label=False, elem_id="heard", interactive=False)
        timeline = gr.Image(label="Emotion over time", show_label=False, elem_id="timeline", interactive=False,
                            visible=False)
        gr.on([button.click, recording.stop_recording, recording.upload, model.change], respond,
              inputs=[recording, model], outputs=[message, probabilities, heard, timeline],
              concurrency_limit=1)
    return app


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, share: bool = False, extra_runs=(),
          saliency: bool = True) -> None:
    """Serve the demo page until interrupted (``ravdess-tf demo``).

    Parameters
    ----------
    host : str
        Address to listen on: ``127.0.0.1`` (default) lets only this computer
        in; ``0.0.0.0`` lets the local network in.
    port : int
        TCP port (default 7860).
    share : bool
        Also open a temporary public link through Gradio's share servers
        (needs internet access).
    extra_runs, saliency
        See :class:`Demo`.
    """
    if not 0 < port < 65536:
        raise ParameterError(f"port must be in 1-65535, got {port}")
    app = build_app(extra_runs, saliency=saliency)
    logger.info("ravdess-tf demo: http://%s:%d  (Ctrl+C stops it)", "127.0.0.1" if host in ("0.0.0.0", "::") else host, port)
    if host in ("127.0.0.1", "localhost", "::1") and not share:
        logger.info("Only this computer can open it. To share it: --host 0.0.0.0 for your local network (browsers "
                    "allow the microphone only on https or this computer, so others can upload files), or --share "
                    "for a temporary public https link (needs internet).")
    app.launch(server_name=host, server_port=port, share=share, quiet=True, show_error=True)
