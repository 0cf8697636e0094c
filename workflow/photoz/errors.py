"""The project's error types, one base class for all of them.

Every message names what is wrong: the file, column, galaxy, frame or config key. The
stage entry (:mod:`photoz.cli`) prints it as one line and exits 1; the traceback goes
to the log only. The classes live here, below every package, so that any stage can
raise or catch any of them without importing another stage.
"""

from __future__ import annotations


class PhotozError(Exception):
    """Base of every error the pipeline raises on bad input or a failed service."""


class ConfigError(PhotozError, ValueError):
    """The configuration is invalid; the message names the key."""


class CatalogError(PhotozError, ValueError):
    """A catalog (or a CAS query) cannot be used as given; the message names the file,
    column, row or query."""


class CalibrationError(PhotozError, ValueError):
    """The real-galaxy calibration file of the synthetic survey is missing or unusable."""


class FrameError(PhotozError, ValueError):
    """A frame file cannot be used; the message names the file."""


class SWarpError(PhotozError, RuntimeError):
    """The SWarp binary is missing or failed."""


class DatasetError(PhotozError, RuntimeError):
    """A dataset file is missing, truncated or does not match its manifest."""


class DatasetInputError(PhotozError, ValueError):
    """The inputs of the dataset stage do not fit together (catalog vs cubes)."""


class ModelError(PhotozError, ValueError):
    """A model, prediction or photo-z table cannot be used as given."""
