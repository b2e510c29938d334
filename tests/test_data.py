import hashlib
import http.server
import io
import threading
import zipfile
from functools import partial

import pytest

import ravdess_tf
from ravdess_tf import data
from ravdess_tf.exceptions import DataNotFoundError, DownloadError, ParameterError


def test_parse_filename_fields():
    info = data.parse_filename("/x/Actor_12/03-01-05-02-01-02-12.wav")
    assert info.clip_id == "03-01-05-02-01-02-12"
    assert (info.modality, info.vocal_channel) == (3, 1)
    assert info.emotion == "angry" and info.emotion_id == 4
    assert info.intensity == "strong"
    assert (info.statement, info.repetition, info.actor) == (1, 2, 12)
    assert info.gender == "female"
    assert data.parse_filename("03-01-01-01-01-01-07.flac").gender == "male"


@pytest.mark.parametrize("name, message", [
    ("hello.wav", "not a RAVDESS file name"),
    ("03-01-05-02-01-02.wav", "not a RAVDESS file name"),
    ("03-01-09-01-01-01-01.wav", "emotion code 09"),
    ("03-01-01-03-01-01-01.wav", "intensity code 03"),
    ("03-01-01-01-01-01-25.wav", "actor code 25"),
    ("04-01-01-01-01-01-01.wav", "modality code 04"),
])
def test_parse_filename_rejects(name, message):
    with pytest.raises(ParameterError, match=message):
        data.parse_filename(name)
    assert issubclass(ParameterError, ValueError)


def test_gender_of_actor_range():
    assert [data.gender_of_actor(a) for a in (1, 2)] == ["male", "female"]
    with pytest.raises(ParameterError, match="actor must be in 1..24"):
        data.gender_of_actor(0)


def test_load_metadata_all_layouts(synthetic_root):
    nested = ravdess_tf.load_metadata(synthetic_root)
    direct = ravdess_tf.load_metadata(synthetic_root / data.SPEECH_FOLDER)
    assert len(nested) == len(direct) == 2 * (4 + 8)  # neutral 4 clips + angry 8, per actor
    assert list(nested.columns[:2]) == ["path", "clip_id"]
    assert nested["actor"].is_monotonic_increasing
    assert set(nested["emotion"]) == {"neutral", "angry"}
    assert nested.equals(direct)


def test_load_metadata_flat(full_names_root):
    metadata = ravdess_tf.load_metadata(full_names_root)
    assert metadata.shape[0] == 1440
    assert set(metadata["gender"]) == {"male", "female"}
    for column in ("path", "actor", "gender", "emotion", "emotion_id", "intensity", "statement", "repetition"):
        assert column in metadata


def test_load_metadata_missing_and_empty(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist.*ravdess-tf download"):
        ravdess_tf.load_metadata(tmp_path / "nowhere")
    with pytest.raises(DataNotFoundError, match="No RAVDESS speech clips.*RAVDESS_ROOT"):
        ravdess_tf.load_metadata(tmp_path)


def test_load_metadata_filters_song_strays_and_duplicates(tmp_path):
    for name in ("03-01-01-01-01-01-01.wav", "03-01-01-01-01-01-01.flac", "03-02-01-01-01-01-01.wav",
                 "01-01-01-01-01-01-01.wav", "notes.wav", "03-01-02-01-01-01-01.flac"):
        (tmp_path / name).touch()
    with pytest.warns(UserWarning) as record:
        metadata = ravdess_tf.load_metadata(tmp_path)
    messages = " ".join(str(w.message) for w in record)
    assert "not audio-only speech" in messages and "not RAVDESS names" in messages
    assert "present twice" in messages
    assert sorted(metadata["clip_id"]) == ["03-01-01-01-01-01-01", "03-01-02-01-01-01-01"]
    assert metadata.set_index("clip_id").loc["03-01-01-01-01-01-01", "path"].endswith(".wav")


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("RAVDESS_ROOT", raising=False)
    monkeypatch.delenv("RAVDESS_TF_DATA", raising=False)
    assert str(data.default_data_dir()) == "data"
    monkeypatch.setenv("RAVDESS_ROOT", str(tmp_path))
    assert data.default_data_dir() == tmp_path


# ---------------------------------------------------------------- download

def _archive_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for actor in (1, 2):
            bundle.writestr(f"Actor_{actor:02d}/03-01-01-01-01-01-{actor:02d}.wav", b"RIFF fake")
    return buffer.getvalue()


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves one payload, honouring 'Range: bytes=N-' and counting requests."""

    def __init__(self, payload, log, *args, **kwargs):
        self.payload, self.log = payload, log
        super().__init__(*args, **kwargs)

    def do_GET(self):
        self.log.append(self.headers.get("Range"))
        start = 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].split("=")[1].rstrip("-"))
            self.send_response(206)
        else:
            self.send_response(200)
        body = self.payload[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    payload = _archive_bytes()
    log = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), partial(_RangeHandler, payload, log))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/{data.ARCHIVE_NAME}", payload, log
    httpd.shutdown()


def test_download_extract_and_noop(server, tmp_path):
    url, payload, log = server
    md5 = hashlib.md5(payload).hexdigest()
    folder = ravdess_tf.download(tmp_path, url=url, md5=md5, size=len(payload), progress=False)
    assert folder == tmp_path / data.SPEECH_FOLDER
    assert len(ravdess_tf.load_metadata(tmp_path)) == 2
    assert not (tmp_path / data.ARCHIVE_NAME).exists()  # archive removed after extraction
    requests = len(log)
    assert ravdess_tf.download(tmp_path, url=url, md5=md5, size=len(payload), progress=False) == folder
    assert len(log) == requests  # verified copy: no network


def test_download_resumes_partial_file(server, tmp_path):
    url, payload, log = server
    (tmp_path / (data.ARCHIVE_NAME + ".part")).write_bytes(payload[:100])
    ravdess_tf.download(tmp_path, url=url, md5=hashlib.md5(payload).hexdigest(), size=len(payload),
                        progress=False)
    assert log == ["bytes=100-"]
    assert len(ravdess_tf.load_metadata(tmp_path)) == 2


def test_download_checksum_mismatch_keeps_nothing(server, tmp_path):
    url, payload, _ = server
    with pytest.raises(DownloadError, match="corrupt.*MD5.*deleted"):
        ravdess_tf.download(tmp_path, url=url, md5="0" * 32, size=len(payload), progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    with pytest.raises(DownloadError, match="size"):
        ravdess_tf.download(tmp_path, url=url, md5=None, size=len(payload) + 1, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_download_unreachable(tmp_path):
    with pytest.raises(DownloadError, match="Could not reach"):
        ravdess_tf.download(tmp_path, url="http://127.0.0.1:9/x.zip", progress=False, timeout=2)


def test_download_refuses_unverified_folder(server, tmp_path):
    url, payload, _ = server
    (tmp_path / data.SPEECH_FOLDER).mkdir()
    with pytest.raises(DownloadError, match="not made by a verified download"):
        ravdess_tf.download(tmp_path, url=url, md5=None, size=None, progress=False)


# ---------------------------------------------------------------- real data

@pytest.mark.realdata
def test_real_metadata_facts(real_metadata):
    metadata = real_metadata
    assert metadata.shape[0] == 1440
    assert metadata["actor"].nunique() == 24
    assert (metadata.groupby("actor").size() == 60).all()
    counts = metadata["emotion"].value_counts()
    assert counts["neutral"] == 96
    assert (counts.drop("neutral") == 192).all() and len(counts) == 8
    assert (metadata.groupby("gender")["actor"].nunique() == 12).all()


def test_load_or_download_never_downloads_into_a_given_folder(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        ravdess_tf.load_or_download(tmp_path / "typo")
    assert not (tmp_path / "typo").exists()


def test_load_or_download_downloads_into_the_default(server, tmp_path, monkeypatch):
    url, payload, _ = server
    monkeypatch.delenv("RAVDESS_ROOT", raising=False)
    monkeypatch.setenv("RAVDESS_TF_DATA", str(tmp_path / "home"))
    metadata = ravdess_tf.load_or_download(url=url, md5=hashlib.md5(payload).hexdigest(), size=len(payload),
                                           progress=False)
    assert len(metadata) == 2 and (tmp_path / "home" / data.SPEECH_FOLDER).is_dir()
