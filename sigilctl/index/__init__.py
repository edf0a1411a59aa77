"""The run index: a rebuildable SQLite copy of what the manifests under artifacts/ say.

The filesystem is authoritative (SPEC §1); the index only makes listing and filtering fast.
``reindex`` rebuilds it from manifests alone; a finishing run upserts itself (``record_run``),
and a missing, locked or broken index never fails that run. Default location:
``<artifacts>/.sigilctl/index.sqlite`` (``--db`` or ``SIGILCTL_INDEX`` move it).
"""

from __future__ import annotations

from pathlib import Path

from sigilctl import env

INDEX_DIR = ".sigilctl"
INDEX_NAME = "index.sqlite"


def default_db_path(
    artifacts: Path, flag: Path | None = None, configured: Path | None = None
) -> Path:
    """flag > $SIGILCTL_INDEX > ``configured`` (sigilctl.toml) >
    ``<artifacts>/.sigilctl/index.sqlite``, made absolute."""
    default = configured or artifacts / INDEX_DIR / INDEX_NAME
    path = env.path_setting(flag, env.SIGILCTL_INDEX, default)
    return path if path.is_absolute() else Path.cwd() / path


def record_run(artifacts: Path, run_dir: Path, *, db: Path | None = None) -> None:
    """Upsert a just-published run; log a warning instead of raising on any failure.

    ``db`` is the index path when the caller resolved it (e.g. from sigilctl.toml). An absent
    index is left absent: ``runs`` builds it whole on first use, and a partial index holding
    only the newest run would mislead.
    """
    from sigilctl.logs import get_logger

    log = get_logger("index")
    db = db or default_db_path(artifacts)
    try:
        if not db.exists():
            log.debug("no index at %s yet; the run is not recorded there", db)
            return
        from sigilctl.index.write import upsert_run

        upsert_run(db, artifacts, run_dir)
    except Exception as exc:  # noqa: BLE001 - the index is a cache: it never fails a run
        log.warning("the run index %s was not updated (%s); 'sigilctl reindex' repairs it", db, exc)
