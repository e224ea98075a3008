"""The error every data-reading function raises: its message is the one line a user sees."""

from __future__ import annotations


class DataError(ValueError):
    """A data folder or file is unusable; the message names the file and says what is wrong."""
