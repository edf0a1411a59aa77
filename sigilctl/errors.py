"""The exception family. Each class knows its exit code so the CLI maps errors in one place.

Exit codes (SPEC §7): 0 ok, 1 the thing checked is not ok, 2 bad input or usage.
"""

from __future__ import annotations


class SigilError(Exception):
    """Base of every error sigilctl reports as one sentence to the user."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(SigilError):
    """Bad input or usage: a brief, a path, an argument. Nothing was written."""

    exit_code = 2


class CanonicalizationError(InputError):
    """A value cannot be serialized as RFC 8785 canonical JSON (NaN, huge int, bad key...)."""


class StorageError(SigilError):
    """The artifacts tree could not be written (permissions, disk full). Nothing was published."""

    exit_code = 1


class RunChangedError(SigilError):
    """A queued run's job no longer derives the run_id it was promised. Nothing was run."""

    exit_code = 1


class DamagedRunError(SigilError):
    """The current run fails verification: it is evidence, so it is not silently replaced."""

    exit_code = 1


class LeaseLostError(SigilError):
    """This process lost a run's cross-machine lock before publishing. Nothing was published."""

    exit_code = 1
