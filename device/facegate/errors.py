"""Errors a user or an admin can act on.

The CLI prints a :class:`FacegateError` as one clear line (no traceback) and exits non-zero;
anything else is a bug and keeps its traceback.
"""


class FacegateError(Exception):
    """A problem with input, configuration or files, explained in the message."""


class ConfigError(FacegateError):
    """The configuration file is missing, unreadable or has an invalid value."""


class ModelFileError(FacegateError):
    """A model file is missing, truncated, altered or cannot be loaded."""


class ImageError(FacegateError):
    """An image file cannot be read or decoded."""


class GalleryError(FacegateError):
    """The gallery database is corrupt, incompatible or cannot be opened."""


class KeyFileError(GalleryError):
    """The gallery key file is missing, unsafe or does not open this gallery."""


class DatasetError(FacegateError):
    """An evaluation data set or pairs file is malformed."""
