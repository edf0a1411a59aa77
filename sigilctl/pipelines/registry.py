"""Job types are registered as entry points of the group ``sigilctl.pipelines`` (name → class).

sigilctl's own job types are registered the same way, in its pyproject.toml. Entry points are
read when a command needs a job type, never at import, and only the one a run names is imported.
A plugin that fails to import, names a class that is not a Pipeline, or declares a malformed
version is reported by name with its error; every other job type keeps working.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pydantic import BaseModel

from sigilctl.errors import InputError
from sigilctl.pipelines.base import Pipeline

GROUP = "sigilctl.pipelines"
OWN_PACKAGE = "sigilctl"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Semantic Versioning 2.0.0: MAJOR.MINOR.PATCH, optional pre-release and build parts.
VERSION_PATTERN = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
OUTPUT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SPAN_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
SCHEMA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class PipelineLoadError(InputError):
    """A registered job type cannot be used (import error, bad class, conflicting packages)."""


@dataclass(frozen=True)
class Registration:
    """One entry point of the group, read without importing anything."""

    name: str
    target: str  # "module:Class"
    package: str | None  # the distribution that registers it
    package_version: str | None

    @property
    def builtin(self) -> bool:
        return self.package == OWN_PACKAGE

    @property
    def origin(self) -> str:
        if self.package is None:
            return self.target
        return f"{self.package} {self.package_version or ''}".strip()


@dataclass(frozen=True)
class LoadedPipeline:
    """A registration and either its pipeline or the one-sentence reason it cannot be used."""

    registration: Registration
    pipeline: Pipeline[Any, Any] | None
    error: str | None

    @property
    def name(self) -> str:
        return self.registration.name


def _group() -> tuple[EntryPoint, ...]:
    """The entry points of the group, read once per process and ``sys.path`` (reading them
    scans every installed distribution: about half of resolving a job, were it done each time)."""
    return _scan(tuple(sys.path))


@functools.cache
def _scan(_path: tuple[str, ...]) -> tuple[EntryPoint, ...]:
    return tuple(entry_points(group=GROUP))


def _registration(entry: EntryPoint) -> Registration:
    dist = entry.dist
    package = dist.metadata["Name"] if dist is not None else None
    return Registration(entry.name, entry.value, package, dist.version if dist else None)


def registrations() -> list[Registration]:
    """Every registered job type, sorted by name (nothing is imported)."""
    found = {_registration(e) for e in _group()}
    return sorted(found, key=lambda r: (r.name, r.package or "", r.target))


def job_type_names() -> list[str]:
    return sorted({r.name for r in registrations()})


def problems_of(cls: object, name: str) -> list[str]:
    """What is wrong with a registered class (empty when it is a usable Pipeline)."""
    if not (isinstance(cls, type) and issubclass(cls, Pipeline)):
        return [f"{cls!r} is not a subclass of sigilctl.api.Pipeline"]
    problems: list[str] = []
    declared = getattr(cls, "name", None)
    if declared != name:
        problems.append(f"its name is {declared!r}, registered as {name!r}")
    if not NAME_PATTERN.match(name):
        problems.append(f"the name {name!r} is not lowercase letters, digits and _")
    version = getattr(cls, "version", None)
    if not (isinstance(version, str) and VERSION_PATTERN.match(version)):
        problems.append(f"version {version!r} is not a semantic version such as '1.0.0'")
    for attr in ("params_model", "reply_model"):
        model = getattr(cls, attr, None)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            problems.append(f"{attr} is not a pydantic model")
    for attr in ("system_prompt", "prompt_template"):
        if not isinstance(getattr(cls, attr, None), str):
            problems.append(f"{attr} is not a string")
    outputs = getattr(cls, "outputs", None)
    if not (
        isinstance(outputs, tuple)
        and outputs
        and len(set(outputs)) == len(outputs)
        and all(isinstance(o, str) and OUTPUT_NAME.match(o) for o in outputs)
    ):
        problems.append("outputs is not a tuple of distinct plain file names")
    for attr, pattern in (
        ("generation_name", SPAN_NAME),
        ("step_name", SPAN_NAME),
        ("schema_name", SCHEMA_NAME),
    ):
        value = getattr(cls, attr, None)
        if not (isinstance(value, str) and pattern.match(value)):
            problems.append(f"{attr} {value!r} is not a valid name")
    return problems


def _load(registration: Registration, entry: EntryPoint) -> Pipeline[Any, Any]:
    where = f"job type '{registration.name}' (from {registration.origin})"
    try:
        cls = entry.load()
    except Exception as exc:  # noqa: BLE001 - a plugin's import failure is reported, named
        raise PipelineLoadError(
            f"{where} cannot be imported: {type(exc).__name__}: {exc}"
        ) from None
    problems = problems_of(cls, registration.name)
    if problems:
        raise PipelineLoadError(f"{where} is not a valid pipeline: {'; '.join(problems)}")
    try:
        pipeline: Pipeline[Any, Any] = cls()
        pipeline.snapshot()  # the reply schema must be expressible as JSON Schema
        pipeline.params_model.model_json_schema()
    except Exception as exc:  # noqa: BLE001 - a plugin's class failing is reported, not raised
        raise PipelineLoadError(f"{where} cannot be set up: {type(exc).__name__}: {exc}") from None
    return pipeline


def _entries(name: str) -> list[tuple[Registration, EntryPoint]]:
    chosen: dict[Registration, EntryPoint] = {}
    for entry in (e for e in _group() if e.name == name):
        chosen.setdefault(_registration(entry), entry)
    return sorted(chosen.items(), key=lambda item: (item[0].package or "", item[0].target))


def get_pipeline(job_type: str, *, source: str = "brief") -> Pipeline[Any, Any]:
    """The pipeline of ``job_type``, imported now; an unusable one is one clear sentence."""
    entries = _entries(job_type)
    if not entries:
        found = registrations()
        listed = ", ".join(sorted({r.name for r in found})) or "none"
        hint = ""
        if not any(r.builtin for r in found):
            hint = "; sigilctl's own job types are not registered: reinstall it (make install)"
        raise InputError(f"{source}: unknown job_type '{job_type}' (known: {listed}){hint}")
    if len(entries) > 1:
        raise PipelineLoadError(f"{source}: {_conflict(job_type, [r for r, _ in entries])}")
    registration, entry = entries[0]
    try:
        return _load(registration, entry)
    except PipelineLoadError as exc:
        raise PipelineLoadError(f"{source}: {exc}") from None


def _conflict(name: str, regs: list[Registration]) -> str:
    by = " and ".join(f"{r.origin} ({r.target})" for r in regs)
    return f"job type '{name}' is registered by more than one package: {by}"


def load_all() -> list[LoadedPipeline]:
    """Every registered job type, imported; broken ones carry their error instead."""
    groups: dict[str, list[tuple[Registration, EntryPoint]]] = {}
    for entry in _group():
        registration = _registration(entry)
        pairs = groups.setdefault(registration.name, [])
        if all(r != registration for r, _ in pairs):
            pairs.append((registration, entry))
    loaded: list[LoadedPipeline] = []
    for name in sorted(groups):
        pairs = groups[name]
        if len(pairs) > 1:
            message = _conflict(name, [r for r, _ in pairs])
            loaded.extend(LoadedPipeline(r, None, message) for r, _ in pairs)
            continue
        registration, entry = pairs[0]
        try:
            loaded.append(LoadedPipeline(registration, _load(registration, entry), None))
        except PipelineLoadError as exc:
            loaded.append(LoadedPipeline(registration, None, exc.message))
    return loaded


def params_schemas(loaded: list[LoadedPipeline]) -> Mapping[str, dict[str, Any]]:
    """JSON Schema of each usable job type's ``params``, by name."""
    return {
        item.name: item.pipeline.params_model.model_json_schema()
        for item in loaded
        if item.pipeline is not None
    }
