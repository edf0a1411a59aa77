"""``sigilctl.toml`` at the workspace root: per-workspace defaults (flag > env > toml > default).

```toml
artifacts = "build/artifacts"   # relative paths are relative to the workspace root
index = "build/index.sqlite"     # or a postgresql:// URL (a team index)
```

Unknown keys are errors naming the file, like unknown keys in a brief.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from sigilctl.errors import InputError

CONFIG_NAME = "sigilctl.toml"
MAX_CONFIG_BYTES = 64 * 1024
KNOWN_KEYS = ("artifacts", "index")


@dataclass(frozen=True)
class WorkspaceConfig:
    """Defaults a workspace sets for itself; None where it sets nothing."""

    artifacts: Path | None = None
    # A path (made absolute against the root) or a URL such as postgresql://host/db, as given.
    index: str | None = None


def load_config(root: Path) -> WorkspaceConfig:
    """Read ``<root>/sigilctl.toml`` if there is one; any problem is one sentence naming it."""
    path = root / CONFIG_NAME
    if not path.exists():
        return WorkspaceConfig()
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise InputError(f"{path} is over the {MAX_CONFIG_BYTES}-byte limit")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path} cannot be read: {exc.strerror or exc}") from None
    try:
        values = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path} is not valid UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path} is not valid TOML ({exc})") from None
    unknown = sorted(set(values) - set(KNOWN_KEYS))
    if unknown:
        raise InputError(
            f"{path}: unknown key '{unknown[0]}' (known keys: {', '.join(KNOWN_KEYS)})"
        )
    for key, value in values.items():
        if not isinstance(value, str) or not value:
            raise InputError(f"{path}: '{key}' must be a non-empty string (a path)")
    artifacts = values.get("artifacts")
    index = values.get("index")
    if index is not None and "://" not in index:
        index = str(root / index)
    return WorkspaceConfig(root / artifacts if artifacts else None, index)
