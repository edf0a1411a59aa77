"""Where the run index lives: a SQLite file (the embedded default) or a PostgreSQL URL.

One setting chooses it, with the house precedence in one place: the ``--db`` flag, then
``$SIGILCTL_INDEX``, then the workspace's configured value (``sigilctl.toml``), then
``<artifacts>/.sigilctl/index.sqlite``. A value with a URL scheme is a URL: ``postgresql://``
(or ``postgres://``) selects PostgreSQL, any other scheme is refused, so ``--db
postgresql://...`` can never become a folder named ``postgresql:``. The password of a URL is
registered with the scrubber at once and never shown: ``display`` is the URL without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sigilctl import env
from sigilctl.errors import InputError

INDEX_DIR = ".sigilctl"
INDEX_NAME = "index.sqlite"
POSTGRES_SCHEMES = ("postgresql", "postgres")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# Query parameters of a libpq URL that may carry a secret: never shown.
_SECRET_PARAMS = frozenset({"password", "sslpassword", "passfile", "sslkey"})


@dataclass(frozen=True)
class IndexLocation:
    """The chosen index: ``kind`` and either ``path`` (SQLite) or ``url`` (PostgreSQL).

    ``url`` may hold a password: it is excluded from ``repr`` and never printed; every message
    and every ``--json`` document names the index by ``display``.
    """

    kind: Literal["sqlite", "postgresql"]
    display: str
    path: Path | None = None
    url: str | None = field(default=None, repr=False)

    @property
    def sqlite_path(self) -> Path:
        if self.path is None:
            raise ValueError("not a SQLite index")
        return self.path

    @property
    def postgres_url(self) -> str:
        if self.url is None:
            raise ValueError("not a PostgreSQL index")
        return self.url


def index_location(
    artifacts: Path, flag: str | Path | None = None, configured: str | Path | None = None
) -> IndexLocation:
    """flag > ``$SIGILCTL_INDEX`` > ``configured`` (sigilctl.toml) > the default file.

    ``configured`` is the workspace's own setting; a relative path in it should already be made
    absolute by its reader (relative to the root). A relative flag or variable is relative to the
    current folder, like any other path argument.
    """
    for source, value in (
        ("--db", flag),
        (f"${env.SIGILCTL_INDEX}", env.get(env.SIGILCTL_INDEX)),
        ("the configured index", configured),
    ):
        if value is not None and str(value) != "":
            return parse_setting(str(value), source)
    return _sqlite(artifacts / INDEX_DIR / INDEX_NAME)


def parse_setting(value: str, source: str = "--db") -> IndexLocation:
    """A file path or a ``postgresql://`` URL; any other scheme is bad input (one sentence)."""
    match = _SCHEME.match(value)
    scheme = match.group(1).lower() if match else ""
    is_url = value[len(scheme) + 1 :].startswith("//") and len(scheme) > 1  # not a C: drive
    if scheme not in POSTGRES_SCHEMES and not is_url:
        return _sqlite(Path(value))
    if scheme not in POSTGRES_SCHEMES:
        raise InputError(
            f"{source} '{redact_url(value)}' is neither a file path nor a postgresql:// URL "
            f"(scheme '{scheme}' is not supported)"
        )
    _remember_secrets(value)
    return IndexLocation("postgresql", redact_url(value), url=value)


def _sqlite(path: Path) -> IndexLocation:
    absolute = path if path.is_absolute() else Path.cwd() / path
    return IndexLocation("sqlite", str(absolute), path=absolute)


def redact_url(url: str) -> str:
    """The URL without its password or any secret query parameter (for messages and JSON)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}@{hostport}" if user else hostport
        query = urlencode(
            [(k, v) for k, v in parse_qsl(parts.query) if k.lower() not in _SECRET_PARAMS]
        )
        return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
    except ValueError:
        match = _SCHEME.match(url)
        return f"{match.group(1)}://(unreadable URL)" if match else "(unreadable URL)"


def _remember_secrets(url: str) -> None:
    """Hand the URL's password (and secret parameters) to the scrubber before anything runs."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    try:
        parts = urlsplit(url)
        found = [parts.password or ""]
        found += [v for k, v in parse_qsl(parts.query) if k.lower() in _SECRET_PARAMS]
    except ValueError:
        return
    for value in found:
        if value:
            env.remember_secret(value)
            env.remember_secret(unquote(value))
