"""Errors that reach the user. The CLI turns each into one line and exit status 2."""

from __future__ import annotations


class MotionprogError(Exception):
    """Bad input or an unmet requirement, stated so a user can act on it.

    The message names the offending file or value and what is wrong, in one line.
    """


class InputError(MotionprogError):
    """A file or value the user gave cannot be used (missing, malformed, wrong shape)."""
