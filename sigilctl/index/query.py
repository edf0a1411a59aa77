"""What ``runs`` asks of the index: filters checked before anything is touched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sigilctl.errors import InputError
from sigilctl.manifest import RUN_STATUSES


@dataclass(frozen=True)
class RunFilters:
    job_id: str | None = None
    brand: str | None = None
    job_type: str | None = None
    status: str | None = None
    since: str | None = None
    limit: int | None = None
    history: bool = False  # include executions that are no longer current (SPEC §8)

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

    def clauses(self) -> tuple[list[str], list[object]]:
        """The names of the filters in use (schema.FILTER_CLAUSES) and their values."""
        names: list[str] = []
        params: list[object] = []
        for name, value in (
            ("job_id", self.job_id),
            ("brand", self.brand),
            ("job_type", self.job_type),
            ("status", self.status),
            ("since", parse_since(self.since) if self.since else None),
        ):
            if value is not None:
                names.append(name)
                params.append(value)
        return names, params


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
