"""The demo: its answers as data (no web library needed), and the page in a real browser."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile

from ravdess_tf import demo as demo_module
from ravdess_tf.data import EMOTIONS
from ravdess_tf.demo import PROMPT, Demo
from ravdess_tf.exceptions import ParameterError
from ravdess_tf.inference import load_pretrained
from ravdess_tf.plots import plot_timeline

from conftest import speech_like

RATE = 16_000
#: Actor 12 saying "Kids are talking by the door" happily, with strong intensity.
HAPPY_CLIP = "Actor_12/03-01-03-02-01-01-12"




def _write(path, audio, rate=RATE):
    soundfile.write(path, audio, rate)
    return path


@pytest.fixture(scope="module")
def logmel_demo():
    demo = Demo(saliency=False)
    demo.models = {"bundled log-mel transformer": "logmel"}  # the fast model only
    return demo


def _clip_path(metadata, name):
    return metadata.loc[metadata["path"].str.contains(name.split("/")[1]), "path"].iloc[0]


@pytest.mark.realdata
def test_answer_is_what_predict_says(real_metadata):
    path = _clip_path(real_metadata, HAPPY_CLIP)
    demo = Demo()
    for key in demo.models.values():
        answer = demo.answer(path, key)
        expected = load_pretrained(key).predict([path]).iloc[0]
        assert answer.emotion == expected["emotion"] == "happy", key
        np.testing.assert_allclose([answer.probabilities[e] for e in EMOTIONS], expected[list(EMOTIONS)].to_numpy(float), atol=1e-6)
        assert f"**{demo.label(key)}**" in answer.message
        assert answer.heard is not None and answer.timeline is None  # one clip: saliency, no timeline


def test_no_recording_silence_and_unreadable_files_get_messages(logmel_demo, tmp_path):
    assert logmel_demo.answer(None).message == PROMPT
    silent = logmel_demo.answer(_write(tmp_path / "silent.wav", np.zeros(3 * RATE, np.float32)))
    assert silent.emotion is None and not silent.probabilities
    assert silent.message.startswith("**No speech found** in silent.wav")
    (tmp_path / "notes.wav").write_text("not audio")
    unreadable = logmel_demo.answer(tmp_path / "notes.wav")
    assert unreadable.emotion is None and unreadable.message.startswith("**Could not read notes.wav.**")


def test_short_recording_is_answered_with_a_warning(logmel_demo, tmp_path):
    answer = logmel_demo.answer(_write(tmp_path / "short.wav", speech_like(0.4)))
    assert answer.emotion in EMOTIONS
    assert "Only 0.40 s of audio" in answer.message


def test_too_long_recording_points_to_predict(logmel_demo, tmp_path, monkeypatch):
    monkeypatch.setattr(demo_module, "MAX_SECONDS", 5.0)
    answer = logmel_demo.answer(_write(tmp_path / "talk.wav", speech_like(6.0)))
    assert answer.emotion is None and "ravdess-tf predict --timeline" in answer.message


def test_long_recording_shows_the_emotion_over_time(logmel_demo, tmp_path):
    answer = logmel_demo.answer(_write(tmp_path / "talk.wav", speech_like(9.0)))
    assert "the mean of 5 windows of 3 s, 1.5 s apart" in answer.message
    axes = answer.timeline.axes[0]
    assert [line.get_label() for line in axes.lines] == list(EMOTIONS)
    assert sum(answer.probabilities.values()) == pytest.approx(1.0)


def test_timeline_figure_marks_windows_without_speech():
    import matplotlib.pyplot as plt

    table = pd.DataFrame({"start_s": [0.0, 1.5, 3.0], "end_s": [3.0, 4.5, 6.0], "speech": [True, False, True],
                          "emotion": ["sad", None, "angry"]})
    for emotion in EMOTIONS:
        table[emotion] = [0.8 if emotion == "sad" else 0.02, np.nan, 0.9 if emotion == "angry" else 0.01]
    figure = plot_timeline(table)
    axes = figure.axes[0]
    assert [text.get_text() for text in axes.texts] == ["sad", "angry"]
    assert len(axes.patches) == 1  # the silent window, shaded
    plt.close(figure)


def test_models_are_checked_at_the_door(tmp_path):
    with pytest.raises(ParameterError, match="not a finished training run"):
        Demo(extra_runs=[tmp_path])
    from ravdess_tf.inference import PRETRAINED, RUN_FILES

    for name in RUN_FILES:  # the bundled log-mel model, as if trained with per-speaker normalisation
        shutil.copy(PRETRAINED["logmel"] / name, tmp_path / name)
    config = json.loads((tmp_path / "config.json").read_text())
    config["train"]["speaker_normalization"] = True
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ParameterError, match="normalises each speaker"):
        Demo(extra_runs=[tmp_path])
    with pytest.raises(ParameterError, match="unknown model 'vgg16'"):
        Demo().predictor("vgg16")


# --------------------------------------------------------------------------
# The page, served by `ravdess-tf demo` and driven in headless Chromium
# --------------------------------------------------------------------------

#: Chromium flags for a machine without a display or network: no sandbox (CI runs as root), and none of
#: the background connections Chromium makes at start.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]


def _chromium():
    executable = os.environ.get("RAVDESS_TF_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no Chromium found: install Debian's chromium package (or set RAVDESS_TF_CHROMIUM)")
    return executable


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served_demo(tmp_path):
    pytest.importorskip("gradio", reason='the demo needs pip install "ravdess-tf[demo]"')
    port = _free_port()
    log = open(tmp_path / "demo.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "ravdess_tf", "demo", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"ravdess-tf demo did not serve {url}:\n{(tmp_path / 'demo.log').read_text()}")
                time.sleep(1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert "Only this computer can open it" in (tmp_path / "demo.log").read_text()


def _upload(page, path):
    """Clear the recording if there is one, choose the upload source, give the file."""
    clear = page.locator("#recording button[aria-label='Clear']")
    if clear.count() and clear.first.is_visible():
        clear.first.click()
    page.click("#recording button[aria-label='Upload file']")
    page.locator("#recording input[type=file]").set_input_files(str(path))


#: The answer's text once it contains ``text`` and is settled. Gradio draws its progress
#: ("processing | 8.0s") inside the component while any event that updates it is still running,
#: so a new answer can show beside a progress line for a moment; read it only once that is gone.
SETTLED_ANSWER = """text => {
    const answer = document.querySelector('#answer');
    const shown = answer.innerText;
    return shown.includes(text) && !answer.querySelector('.progress-text') && shown;
}"""


def _answer_containing(page, text, timeout_s=120):
    return page.wait_for_function(SETTLED_ANSWER, arg=text, timeout=timeout_s * 1000).json_value()


@pytest.mark.realdata
def test_demo_in_a_real_browser(served_demo, real_metadata, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright (the dev extra)")
    chromium = _chromium()
    clip = _clip_path(real_metadata, HAPPY_CLIP)
    demo = Demo(saliency=False)
    expected = {key: demo.answer(clip, key).emotion for key in demo.models.values()}
    # Three sentences of actor 12, one after another: a recording with more than one emotion.
    parts = [soundfile.read(_clip_path(real_metadata, f"Actor_12/03-01-{code}-02-01-01-12"))[0]
             for code in ("05", "04", "03")]
    talk = _write(tmp_path / "three_sentences.wav", np.concatenate(parts).astype(np.float32), 48_000)
    silent = _write(tmp_path / "silent.wav", np.zeros(3 * RATE, np.float32))

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(served_demo)
        page.wait_for_selector("#recognise")

        _upload(page, clip)  # answered by the default model as soon as it is uploaded
        default_label, default_key = next(iter(demo.models.items()))
        text = _answer_containing(page, "Answered by")
        assert text.startswith(expected[default_key]) and default_label in text
        assert expected[default_key] in page.inner_text("#probabilities")
        assert page.locator("#heard img").count() == 1  # the spectrogram with its saliency

        page.get_by_label("bundled log-mel transformer").check()  # the switch answers again
        text = _answer_containing(page, "Answered by the bundled log-mel transformer")
        assert text.startswith(expected["logmel"])

        _upload(page, silent)
        assert "No speech found in silent.wav" in _answer_containing(page, "No speech found")

        page.get_by_label(default_label).check()
        _upload(page, talk)
        assert "windows of 3 s" in _answer_containing(page, "windows of 3 s")
        page.wait_for_selector("#timeline img")
        page.wait_for_timeout(500)  # let the images settle before the picture is taken
        screenshot = Path(os.environ.get("RAVDESS_TF_DEMO_SCREENSHOT", tmp_path / "demo.png"))
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert screenshot.stat().st_size > 10_000


def test_demo_command_checks_its_port(capsys):
    from ravdess_tf.cli import main

    assert main(["demo", "--port", "70000"]) == 2
    assert "port must be in 1-65535, got 70000" in capsys.readouterr().err
