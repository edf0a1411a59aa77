"""What every pipeline provides: its parameters, its prompt, and how it turns a reply into files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from sigilctl.providers.base import GenerationRequest


class OutputError(Exception):
    """The provider's reply is not what the pipeline's output schema requires."""


class Pipeline(Protocol):
    job_type: str
    version: str

    def parse_params(self, params: dict[str, Any], *, source: str) -> BaseModel: ...

    def snapshot(self) -> dict[str, Any]:
        """The ``pipeline`` input snapshot: job_type, version, prompt template text."""

    def build_request(
        self,
        *,
        params: BaseModel,
        brand: str,
        doctrine: dict[str, Any],
        context: dict[str, Any],
        model_config: dict[str, Any],
        inputs_hash: str,
    ) -> GenerationRequest: ...

    def parse_reply(self, text: str, params: BaseModel) -> BaseModel: ...

    def write_outputs(self, result: BaseModel, outputs_dir: Path) -> list[Path]: ...


def read_template(name: str) -> str:
    """A prompt template shipped as a package file."""
    return resources.files("sigilctl.pipelines").joinpath("templates", name).read_text("utf-8")
