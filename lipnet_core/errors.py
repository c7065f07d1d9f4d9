"""Exceptions a user can act on. Every message is one sentence that says what went wrong and what to do."""


class LipNetError(ValueError):
    """Base class for every error lipnet_core raises on purpose."""


class ClipError(LipNetError):
    """The clip cannot be used: not a video, truncated, empty, too long, too large."""


class FaceNotFoundError(ClipError):
    """No face (or no usable mouth) was found in the clip."""


class WeightsError(LipNetError):
    """Model weights are missing, corrupt or do not fit the model."""


class VocabularyError(LipNetError):
    """Text contains a character the model cannot write."""


class DataDirError(LipNetError):
    """The GRID data directory is missing or not laid out as expected."""
