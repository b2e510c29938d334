"""Exceptions raised by ravdess_tf.

Every error names the offending value (a file, an option) and says what was
expected, so that a user can fix the call without reading the source.
"""


class ParameterError(ValueError):
    """An argument, a file name or a configuration value is invalid."""


class DataNotFoundError(FileNotFoundError):
    """RAVDESS audio could not be found where it was expected."""


class AudioError(ValueError):
    """An audio file could not be read, or its content is unusable."""


class DownloadError(RuntimeError):
    """A download failed, or its result did not match the expected checksum."""


class RunsFailedError(RuntimeError):
    """Runs of a study failed; ``failures`` names each run and its error."""

    def __init__(self, failures: list[str]):
        self.failures = list(failures)
        super().__init__(f"{len(self.failures)} run(s) failed:\n" + "\n".join(f"  {line}" for line in self.failures))


class WhisperUnavailableError(FileNotFoundError):
    """No Whisper checkpoint could be found, joined or downloaded."""


class ChecksumError(DownloadError):
    """A joined or downloaded checkpoint is not the expected file."""
