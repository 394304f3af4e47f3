"""Errors that name the input and the fix.

Every message a user can see starts with the input's name ("acled_peru.csv: ...") and
says what to do. Code catches these specific classes, never ``Exception``.
"""

from __future__ import annotations


class AtlasError(Exception):
    """Base class for every error the atlas reports to a user."""


class InputError(AtlasError, ValueError):
    """A file or value cannot be used as given (missing, wrong format, no usable rows...)."""


class CRSError(InputError):
    """A coordinate reference system is missing, wrong, or does not match."""


class LimitError(InputError):
    """An input is over a size, row-count, ratio or time limit."""


class FetchError(AtlasError):
    """A download failed (network, checksum, unknown id); nothing half-written was kept."""
