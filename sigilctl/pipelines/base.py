"""The Pipeline base class: what a job type declares, and the few calls the runner makes.

A job type is a subclass that declares its name, version, prompt templates, a pydantic model of
its ``params``, a pydantic model of the model's reply, and the files it writes. The base class
turns those declarations into the five calls the runner (and a replay) make:

- ``parse_params(raw, source=...)``: validate a brief's ``params`` (bad input → exit 2);
- ``snapshot()``: the ``pipeline`` input snapshot (job_type, version, templates, reply schema);
- ``build_request(inputs)``: the provider request, from the run's snapshots only;
- ``parse_reply(text, inputs)``: the reply validated against the reply model;
- ``write_outputs(reply, inputs, outputs_dir)``: the declared output files.

Authors override the hooks (``prompt_variables``, ``material``, ``compose_offline``,
``check_reply``, ``render_outputs``); each has a default that fits most job types.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any, ClassVar, Generic, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from sigilctl.errors import InputError, SigilError
from sigilctl.pipelines.inputs import PipelineInputs
from sigilctl.providers.base import GenerationRequest

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


class OutputError(Exception):
    """The provider's reply is not what the pipeline's output schema requires."""


class PipelineError(SigilError):
    """A job type's own code failed (a bug in the pipeline, not in the brief or the reply)."""

    exit_code = 1


def read_template(package: str, name: str) -> str:
    """A prompt template shipped as a file of ``package`` (e.g. ``templates/x.txt``)."""
    return resources.files(package).joinpath(name).read_text("utf-8")


def context_text(inputs: PipelineInputs) -> str:
    """The retrieved documents as one prompt section: ``### path`` then the text, in rank order."""
    parts = [f"### {d.get('path', '')}\n{d.get('text', '')}" for d in inputs.documents]
    return "\n\n".join(parts) or "(none)"


def declared_order(schema: Any) -> Any:
    """A reply schema read back from its canonical snapshot, with each object's properties in
    the order the model declares them.

    RFC 8785 sorts object keys, so the snapshot lists properties alphabetically; models answer
    structured output in property order, so the order is restored from ``required`` (an array,
    kept in declaration order by pydantic), other properties after it.
    """
    if isinstance(schema, list):
        return [declared_order(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: declared_order(value) for key, value in schema.items()}
    properties, required = out.get("properties"), out.get("required")
    if isinstance(properties, dict) and isinstance(required, list):
        first = [name for name in required if name in properties]
        rest = [name for name in properties if name not in first]
        out["properties"] = {name: properties[name] for name in first + rest}
    return out


class Pipeline(Generic[P, R]):
    """Base class of every job type. Subclass it, fill in the declarations, register it.

    ``P`` is the params model, ``R`` the reply model. Instances hold no state: the runner makes
    one per run with no arguments.
    """

    name: ClassVar[str]
    """The job_type briefs name; equals the entry point name it is registered under."""
    version: ClassVar[str]
    """Semantic version (``1.2.0``). Part of the ``pipeline`` snapshot: a bump changes run_ids."""
    params_model: type[P]
    """The pydantic model of the brief's ``params`` (use ``extra="forbid"``)."""
    reply_model: type[R]
    """The pydantic model of the model's JSON reply; its JSON Schema is sent to the provider."""
    system_prompt: ClassVar[str]
    """The system message (a ``string.Template``, like ``prompt_template``)."""
    prompt_template: ClassVar[str]
    """The user message: ``$brand``, ``$doctrine``, ``$context`` and every param are filled in."""
    outputs: ClassVar[tuple[str, ...]]
    """The file names written under ``outputs/`` (plain names, no folders)."""
    generation_name: ClassVar[str]
    """Name of the LLM generation in the trace, e.g. ``caption_generation``."""
    step_name: ClassVar[str] = "generate"
    """Name of the trace span around the model call, e.g. ``generate_captions``."""
    schema_name: ClassVar[str] = "reply"
    """Name of the JSON Schema in a structured-output request (``[a-zA-Z0-9_-]``)."""

    # --- what the runner calls ------------------------------------------------------------

    def parse_params(self, params: Mapping[str, Any], *, source: str) -> P:
        """The brief's ``params`` validated; one sentence naming the field if not."""
        from sigilctl.brief import describe_validation_error

        try:
            return self.params_model.model_validate(dict(params))
        except ValidationError as exc:
            raise InputError(
                describe_validation_error(
                    exc, source=source, prefix="params.", model=self.params_model
                )
            ) from None

    def snapshot(self) -> dict[str, Any]:
        """The ``pipeline`` input snapshot: everything that shapes the request but the brief."""
        return {
            "job_type": self.name,
            "version": self.version,
            "system_prompt": self.system_prompt,
            "prompt_template": self.prompt_template,
            "output_schema": self.reply_model.model_json_schema(),
        }

    def build_request(self, inputs: PipelineInputs) -> GenerationRequest:
        """The provider request, from the snapshots alone (templates and schema included)."""
        params = self.params_of(inputs)
        with self._own_code("build the prompt"):
            variables = {k: str(v) for k, v in self.prompt_variables(inputs, params).items()}
            material = self.material(inputs, params)
        model = inputs.model_config
        return GenerationRequest(
            provider=str(model["provider"]),
            model=str(model["name"]),
            temperature=float(model["temperature"]),
            max_tokens=int(model["max_tokens"]),
            seed=model.get("seed"),
            system=Template(str(inputs.pipeline["system_prompt"])).safe_substitute(variables),
            prompt=Template(str(inputs.pipeline["prompt_template"])).safe_substitute(variables),
            schema_name=self.schema_name,
            response_schema=declared_order(inputs.pipeline["output_schema"]),
            material=material,
            seed_material=inputs.inputs_hash,
            offline_composer=self.compose_offline,
        )

    def parse_reply(self, text: str, inputs: PipelineInputs) -> R:
        """The reply as the reply model, checked against the params; OutputError if not."""
        try:
            reply = self.reply_model.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "reply"
            raise OutputError(
                f"the reply is not a valid {self.schema_name.replace('_', ' ')} "
                f"({where}: {first['msg']})"
            ) from None
        params = self.params_of(inputs)
        try:
            self.check_reply(reply, params)
        except OutputError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug in the check still rejects the reply
            raise OutputError(
                f"pipeline {self.name} failed to check the reply: {type(exc).__name__}: {exc}"
            ) from None
        return reply

    def write_outputs(self, reply: R, inputs: PipelineInputs, outputs_dir: Path) -> list[Path]:
        """Write the declared output files under ``outputs_dir``; returns their paths."""
        params = self.params_of(inputs)
        with self._own_code("render its outputs"):
            files = dict(self.render_outputs(reply, params))
        if not all(isinstance(data, bytes) for data in files.values()):
            raise PipelineError(f"pipeline {self.name} rendered an output that is not bytes")
        undeclared = sorted(set(files) - set(self.outputs))
        if undeclared:
            raise PipelineError(
                f"pipeline {self.name} rendered undeclared output(s) {', '.join(undeclared)}"
            )
        outputs_dir.mkdir(exist_ok=True)
        written = []
        for name in self.outputs:
            if name in files:
                path = outputs_dir / name
                path.write_bytes(files[name])
                written.append(path)
        return written

    @contextmanager
    def _own_code(self, what: str) -> Iterator[None]:
        """An exception from a hook becomes one sentence naming the job type (exit 1)."""
        try:
            yield
        except SigilError:
            raise
        except Exception as exc:
            raise PipelineError(
                f"pipeline {self.name} {self.version} failed to {what}: {type(exc).__name__}: {exc}"
            ) from exc

    def params_of(self, inputs: PipelineInputs) -> P:
        """The params of a run, validated from its ``brief`` snapshot."""
        return self.parse_params(inputs.raw_params, source="the brief snapshot")

    # --- hooks for authors ----------------------------------------------------------------

    def prompt_variables(self, inputs: PipelineInputs, params: P) -> Mapping[str, object]:
        """Values for the templates: ``brand``, ``doctrine``, ``context`` and every param."""
        return {
            **params.model_dump(mode="json"),
            "brand": inputs.brand,
            "doctrine": str(inputs.doctrine.get("text", "")),
            "context": context_text(inputs),
        }

    def material(self, inputs: PipelineInputs, params: P) -> dict[str, Any]:
        """Structured inputs for the offline provider (it does not read prose prompts)."""
        return {
            **params.model_dump(mode="json"),
            "brand": inputs.brand,
            "doctrine": str(inputs.doctrine.get("text", "")),
            "documents": inputs.documents,
        }

    def compose_offline(self, request: GenerationRequest) -> Any:
        """The offline provider's reply: by default the reply schema filled from the material."""
        from sigilctl.providers.offline import fill_schema

        return fill_schema(request.response_schema, request.material, request.seed_material)

    def check_reply(self, reply: R, params: P) -> None:
        """Checks the schema cannot express (e.g. "exactly ``count`` items"): raise OutputError."""
        return None

    def render_outputs(self, reply: R, params: P) -> Mapping[str, bytes]:
        """File name → bytes. By default the reply as indented JSON in the first output."""
        data = orjson.dumps(reply.model_dump(mode="json"), option=orjson.OPT_INDENT_2)
        return {self.outputs[0]: data + b"\n"}
