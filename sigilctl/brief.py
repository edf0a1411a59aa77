"""The brief: the governance input of a job, validated strictly (unknown keys are errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sigilctl.errors import InputError
from sigilctl.safe_yaml import load_yaml_file
from sigilctl.workspace import MAX_BRIEF_BYTES, check_job_id


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True, strict=False)


NonEmpty = Field(min_length=1, max_length=512)


class DoctrineRef(_Strict):
    """The brand doctrine a job is written under; its file is hashed into the identity."""

    id: str = NonEmpty
    version: str = NonEmpty
    path: str = NonEmpty


class ContextSpec(_Strict):
    """How context is chosen: globs, then an optional deterministic lexical retrieval."""

    paths: list[str] = Field(min_length=1, max_length=64)
    query: str | None = Field(default=None, min_length=1, max_length=2000)
    top_k: int | None = Field(default=None, ge=1, le=1000)


class PriceSpec(_Strict):
    """USD per million tokens, overriding the price table for this brief's model. Not part of
    the identity: what a call costs never changes what it produces."""

    input_per_mtok: float = Field(ge=0, le=1_000_000)
    output_per_mtok: float = Field(ge=0, le=1_000_000)


class ModelSpec(_Strict):
    """Generation settings; the provider's endpoint and key come from the environment only."""

    provider: Literal["offline", "openai"]
    name: str = NonEmpty
    temperature: float = Field(ge=0, le=2)
    max_tokens: int = Field(ge=1, le=1_000_000)
    seed: int | None = Field(default=None, ge=-(2**53 - 1), le=2**53 - 1)
    price: PriceSpec | None = None


class ObservabilitySpec(_Strict):
    """Tracing controls. Not part of the identity: tracing never changes a run_id."""

    enabled: bool = True
    sample_rate: float = Field(default=1.0, ge=0, le=1)


class Brief(_Strict):
    job_id: str
    job_type: str = NonEmpty
    brand: str = NonEmpty
    doctrine: DoctrineRef
    context: ContextSpec
    model: ModelSpec
    params: dict[str, Any]
    observability: ObservabilitySpec | None = None

    def identity_view(self) -> dict[str, Any]:
        """The brief as it enters the ``brief`` snapshot: everything but observability and the
        price override (neither changes what a run produces)."""
        return self.model_dump(mode="json", exclude={"observability": True, "model": {"price"}})


def describe_validation_error(
    exc: ValidationError,
    *,
    source: str,
    prefix: str = "",
    model: type[BaseModel] | None = None,
) -> str:
    """Turn pydantic's report into one sentence naming the file and the field; an unknown key
    of ``model`` (or of a model inside it) gets the closest known keys."""
    errors = exc.errors(include_url=False)
    # A misspelt key is both unknown and missing: the unknown one explains both.
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    location = prefix + ".".join(str(part) for part in first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        message = f"unknown key '{location}'"
        if model is not None:
            from sigilctl.suggest import did_you_mean

            *parents, key = [str(part) for part in first["loc"]]
            message += did_you_mean(key, known_keys(model, parents))
    elif kind == "missing":
        message = f"missing required key '{location}'"
    else:
        value = first.get("input")
        shown = f" (got {value!r})" if isinstance(value, str | int | float | bool) else ""
        message = f"field '{location}': {first['msg'][0].lower()}{first['msg'][1:]}{shown}"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return f"{source}: {message}" + (more if len(errors) > 1 else "")


def known_keys(model: type[BaseModel], parents: list[str]) -> list[str]:
    """The keys allowed under ``parents`` (a path of field names) of ``model``."""
    current: Any = model
    for part in parents:
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            return []
        current = _model_of(fields[part].annotation)
    fields = getattr(current, "model_fields", None)
    return list(fields) if fields else []


def _model_of(annotation: Any) -> Any:
    """The pydantic model inside an annotation such as ``ModelSpec | None`` (else None)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def load_brief(path: Path) -> Brief:
    """Load and validate a brief; its job_id must match its folder and the allowed pattern."""
    raw = load_yaml_file(path, limit=MAX_BRIEF_BYTES)
    if raw is None:
        raise InputError(f"{path}: the brief is empty")
    if not isinstance(raw, dict):
        raise InputError(f"{path}: a brief must be a mapping of keys, not a {type(raw).__name__}")
    try:
        brief = Brief.model_validate(raw)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc, source=str(path), model=Brief)) from None
    check_job_id(brief.job_id, source=str(path))
    if brief.job_id != path.parent.name:
        raise InputError(
            f"{path}: job_id '{brief.job_id}' must equal its folder name '{path.parent.name}'"
        )
    return brief
