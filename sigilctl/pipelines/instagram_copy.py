"""instagram_copy: N captions in a brand's voice about a topic, grounded in retrieved context."""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sigilctl.brief import describe_validation_error
from sigilctl.errors import InputError
from sigilctl.pipelines.base import OutputError, read_template
from sigilctl.providers.base import GenerationRequest

SYSTEM_PROMPT = (
    "You are a senior brand copywriter. You write only in the brand's documented voice and "
    "reply with JSON that matches the requested schema."
)
OUTPUT_FILE = "captions.json"


class InstagramParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str = Field(min_length=1, max_length=500)
    count: int = Field(ge=1, le=20)


class Caption(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2200)
    hashtags: list[str] = Field(max_length=30)


class CaptionSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    captions: list[Caption]


class InstagramCopy:
    job_type = "instagram_copy"
    version = "1.0.0"
    template_name = "instagram_copy.txt"

    def __init__(self) -> None:
        self.template = read_template(self.template_name)

    def parse_params(self, params: dict[str, Any], *, source: str) -> InstagramParams:
        try:
            return InstagramParams.model_validate(params)
        except ValidationError as exc:
            raise InputError(
                describe_validation_error(exc, source=source, prefix="params.")
            ) from None

    def snapshot(self) -> dict[str, Any]:
        return {
            "job_type": self.job_type,
            "version": self.version,
            "system_prompt": SYSTEM_PROMPT,
            "prompt_template": self.template,
            "output_schema": CaptionSet.model_json_schema(),
        }

    def build_request(
        self,
        *,
        params: BaseModel,
        brand: str,
        doctrine: dict[str, Any],
        context: dict[str, Any],
        model_config: dict[str, Any],
        inputs_hash: str,
    ) -> GenerationRequest:
        assert isinstance(params, InstagramParams)
        documents = context.get("documents", [])
        context_text = "\n\n".join(f"### {d['path']}\n{d['text']}" for d in documents)
        prompt = Template(self.template).safe_substitute(
            count=params.count,
            brand=brand,
            topic=params.topic,
            doctrine=doctrine["text"],
            context=context_text or "(none)",
        )
        return GenerationRequest(
            provider=model_config["provider"],
            model=model_config["name"],
            temperature=model_config["temperature"],
            max_tokens=model_config["max_tokens"],
            seed=model_config.get("seed"),
            system=SYSTEM_PROMPT,
            prompt=prompt,
            schema_name="caption_set",
            response_schema=CaptionSet.model_json_schema(),
            material={
                "topic": params.topic,
                "count": params.count,
                "brand": brand,
                "doctrine": doctrine["text"],
                "documents": documents,
            },
            seed_material=inputs_hash,
        )

    def parse_reply(self, text: str, params: BaseModel) -> CaptionSet:
        assert isinstance(params, InstagramParams)
        try:
            result = CaptionSet.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "reply"
            raise OutputError(
                f"the reply is not a valid caption set ({where}: {first['msg']})"
            ) from None
        if len(result.captions) != params.count:
            raise OutputError(
                f"the reply has {len(result.captions)} captions, the brief asks for {params.count}"
            )
        return result

    def write_outputs(self, result: BaseModel, outputs_dir: Path) -> list[Path]:
        outputs_dir.mkdir(exist_ok=True)
        path = outputs_dir / OUTPUT_FILE
        data = orjson.dumps(result.model_dump(mode="json"), option=orjson.OPT_INDENT_2) + b"\n"
        path.write_bytes(data)
        return [path]
