"""``runs``: list runs from the index with filters, newest first."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sigilctl.errors import InputError, StorageError
from sigilctl.index import schema
from sigilctl.index import sqlite as backend
from sigilctl.index.advice import rebuild_advice
from sigilctl.index.rows import RunRecord
from sigilctl.manifest import RUN_STATUSES


@dataclass(frozen=True)
class RunFilters:
    job_id: str | None = None
    brand: str | None = None
    job_type: str | None = None
    status: str | None = None
    since: str | None = None
    limit: int | None = None

    def checked(self) -> RunFilters:
        """Refuse an unknown status or an unreadable date before touching the index."""
        if self.status is not None and self.status not in RUN_STATUSES:
            raise InputError(
                f"--status '{self.status}' is not a run status (use one of: "
                f"{', '.join(RUN_STATUSES)})"
            )
        if self.limit is not None and self.limit < 1:
            raise InputError(f"--limit must be at least 1, not {self.limit}")
        if self.since is not None:
            parse_since(self.since)
        return self


def parse_since(text: str) -> str:
    """YYYY-MM-DD (midnight UTC) or an ISO 8601 datetime (UTC if no offset), as index text."""
    value = text.strip()
    try:
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"--since '{text}' is not a date: use YYYY-MM-DD or an ISO 8601 datetime "
            "such as 2026-01-31T12:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def query_runs(db: Path, artifacts: Path, filters: RunFilters) -> list[RunRecord]:
    """The runs of the index at ``db`` that match ``filters``, newest first."""
    names: list[str] = []
    params: list[object] = []
    for name, value in (
        ("job_id", filters.job_id),
        ("brand", filters.brand),
        ("job_type", filters.job_type),
        ("status", filters.status),
        ("since", parse_since(filters.since) if filters.since else None),
    ):
        if value is not None:
            names.append(name)
            params.append(value)
    if filters.limit is not None:
        params.append(filters.limit)
    sql = schema.select_runs(names, limited=filters.limit is not None)
    try:
        with backend.connect(db) as conn:
            state = backend.schema_state(conn)
            if state == "ahead":
                raise StorageError(
                    f"the index {db} was written by a newer sigilctl; "
                    f"{rebuild_advice(db, artifacts)}"
                )
            if state == "behind":
                with backend.writer_lock(db, backend.WRITE_TIMEOUT_S):
                    backend.migrate(conn)
            rows = conn.execute(sql, params).fetchall()
    except sqlite3.Error as exc:
        raise StorageError(
            f"the index {db} cannot be read ({exc}); {rebuild_advice(db, artifacts)}"
        ) from None
    return [RunRecord.from_row(row, artifacts) for row in rows]
