"""Logging for side channels (tracing, index upkeep): one short line on stderr, detail with -v.

Libraries we call (the OpenTelemetry exporter, httpx) log tracebacks on failures that must never
reach an operator as noise; they are routed here and shown only with ``-v``. Every record that
reaches the terminal, ours or a library's, is formatted whole (message, arguments, traceback)
and then scrubbed of secrets (sigilctl.env.scrub) and of control characters: a server that
echoes the request into an exception cannot put a key on screen, even with ``-v``.
"""

from __future__ import annotations

import logging
import sys

from sigilctl.env import scrub
from sigilctl.text import printable_lines

LOGGER_NAME = "sigilctl"
# Python warnings are captured as the "py.warnings" logger, and treated as library noise.
_NOISY = (
    "opentelemetry", "langfuse", "httpx", "httpcore", "openai", "urllib3", "psycopg", "py.warnings",
)  # fmt: skip


def get_logger(name: str = "") -> logging.Logger:
    """A logger of ours. Also re-tames the libraries' loggers: a module that imports one of them
    gets its logger after that import, and some libraries configure logging when imported
    (``langfuse.logger`` gives httpx an unscrubbed stderr handler and a WARNING level)."""
    _tame_libraries()
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is now (not the one at import), like print would."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:
        """Say nothing: the default prints the raw, unscrubbed record to stderr."""


class ScrubbingFormatter(logging.Formatter):
    """Formats the whole record, then scrubs secrets and escapes control characters."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        head = f"sigilctl: {record.levelname}: "
        if not record.name.startswith(LOGGER_NAME) and text.startswith(head):
            text = f"{head}[{record.name}] {text[len(head) :]}"  # a library's record
        return printable_lines(scrub(text))


_handler = _StderrHandler()
_handler.setFormatter(ScrubbingFormatter("sigilctl: %(levelname)s: %(message)s"))
_verbose = False


def _tame_libraries() -> None:
    """Each noisy library logger: our handler only (never one a library added, never Python's
    unscrubbed last resort), and its records shown only with -v."""
    for name in _NOISY:
        library = logging.getLogger(name)
        for handler in list(library.handlers):
            if handler is not _handler:
                library.removeHandler(handler)
        if not library.handlers:
            library.addHandler(_handler)
        library.propagate = False
        library.setLevel(logging.WARNING if _verbose else logging.CRITICAL)


class _Formatter(logging.Formatter):
    """``sigilctl: warning: ...``: the same prefix style as every other message."""

    def format(self, record: logging.LogRecord) -> str:
        return f"sigilctl: {record.levelname.lower()}: {record.getMessage()}" + (
            "\n" + self.formatException(record.exc_info) if record.exc_info else ""
        )


def _configure() -> None:
    root = logging.getLogger(LOGGER_NAME)
    if _handler not in root.handlers:
        root.addHandler(_handler)
        root.setLevel(logging.WARNING)
        root.propagate = False
    logging.captureWarnings(True)
    _tame_libraries()


def set_verbose(verbose: bool) -> None:
    """-v shows debug lines of ours and the libraries' own warnings; otherwise they stay quiet."""
    global _verbose
    _verbose = verbose
    _configure()
    logging.getLogger(LOGGER_NAME).setLevel(logging.DEBUG if verbose else logging.WARNING)


_configure()
