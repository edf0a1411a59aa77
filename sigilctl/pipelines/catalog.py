"""What ``sigilctl pipelines`` reports: every registered job type, usable or not, as data."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sigilctl.pipelines.registry import LoadedPipeline, load_all


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    package: str  # "<distribution> <version>", or the entry point when it has no distribution
    distribution: str | None
    distribution_version: str | None
    entry_point: str
    builtin: bool
    version: str | None = None
    outputs: tuple[str, ...] = ()
    generation_name: str | None = None
    params_schema: dict[str, Any] | None = None
    error: str | None = None

    @classmethod
    def of(cls, loaded: LoadedPipeline) -> CatalogEntry:
        reg = loaded.registration
        base = cls(
            name=reg.name,
            package=reg.origin,
            distribution=reg.package,
            distribution_version=reg.package_version,
            entry_point=reg.target,
            builtin=reg.builtin,
            error=loaded.error,
        )
        pipeline = loaded.pipeline
        if pipeline is None:
            return base
        return replace(
            base,
            version=pipeline.version,
            outputs=tuple(pipeline.outputs),
            generation_name=pipeline.generation_name,
            params_schema=pipeline.params_model.model_json_schema(),
        )

    def params_summary(self) -> list[str]:
        """``topic`` (required), ``sections=3`` (its default), ``audience?`` (optional)."""
        schema = self.params_schema or {}
        required = set(schema.get("required", []))
        found = []
        for name, sub in schema.get("properties", {}).items():
            if name in required:
                found.append(name)
            elif sub.get("default") is not None:
                found.append(f"{name}={sub['default']}")
            else:
                found.append(f"{name}?")
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "package": self.distribution,
            "package_version": self.distribution_version,
            "entry_point": self.entry_point,
            "builtin": self.builtin,
            "outputs": list(self.outputs),
            "generation_name": self.generation_name,
            "params_schema": self.params_schema,
            "ok": self.error is None,
            "error": self.error,
        }


@dataclass(frozen=True)
class Catalog:
    entries: list[CatalogEntry]

    @property
    def ok(self) -> bool:
        return all(entry.error is None for entry in self.entries)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "pipelines": [entry.as_json() for entry in self.entries]}


def catalog() -> Catalog:
    """Every registered job type, each imported and checked (broken ones carry their error)."""
    return Catalog([CatalogEntry.of(item) for item in load_all()])
