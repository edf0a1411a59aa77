"""The offline provider: deterministic replies with no network, for demos, CI and dry runs.

It answers with the request's ``offline_composer`` (each pipeline may write its own reply from
the structured material: topic, doctrine rules, retrieved context), or else fills the reply's
JSON Schema from that material. Every choice is picked with sha256(inputs_hash, salt), so the
same inputs give the same bytes everywhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from sigilctl.providers.base import GenerationRequest, GenerationResult, ProviderError

GENERATOR_VERSION = "sigilctl-offline/1"
MAX_DEPTH = 32  # a recursive reply schema is filled this deep, then left at its minimum


def pick(options: Sequence[str], seed: str, salt: str) -> str:
    """One of ``options``, chosen by sha256(seed:salt): stable across machines and runs."""
    digest = hashlib.sha256(f"{seed}:{salt}".encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def sentences(text: str) -> list[str]:
    """The plain sentences of a Markdown text (headings skipped), 30–220 characters long."""
    body = " ".join(line.strip() for line in text.splitlines() if not line.startswith("#"))
    parts = re.split(r"(?<=[.!?])\s+", body)
    return [p.strip(" -*") for p in parts if 30 <= len(p.strip()) <= 220]


def hashtag(words: str) -> str:
    return "#" + "".join(w.capitalize() for w in re.findall(r"[A-Za-z0-9]+", words))


def facts_of(material: Mapping[str, Any]) -> list[str]:
    """Sentences of the retrieved documents, in rank order."""
    found: list[str] = []
    for document in material.get("documents", []):
        found.extend(sentences(str(document.get("text", ""))))
    return found


def fill_schema(schema: Mapping[str, Any], material: Mapping[str, Any], seed: str) -> Any:
    """A value that satisfies ``schema`` (pydantic's JSON Schema of a reply), from the material.

    Strings are sentences of the context documents (else of the doctrine, else the topic),
    clipped to ``maxLength``; arrays have ``material["counts"][property]`` items when given,
    else ``minItems`` (at least one); numbers sit at their minimum. ``pattern`` and ``format``
    are not honoured: a pipeline with such fields supplies its own ``compose_offline``.
    """
    pool = facts_of(material) or sentences(str(material.get("doctrine", "")))
    if not pool:
        pool = [str(material.get("topic") or material.get("brand") or "offline text")]
    counts = material.get("counts")
    filler = _Filler(
        schema.get("$defs", {}), pool, seed, counts if isinstance(counts, Mapping) else {}
    )
    return filler.value(schema, "reply", 0)


class _Filler:
    def __init__(
        self, defs: Mapping[str, Any], pool: list[str], seed: str, counts: Mapping[str, Any]
    ) -> None:
        self.defs = defs
        self.pool = pool
        self.seed = seed
        self.counts = counts

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = schema.get("$ref")
        while isinstance(ref, str) and ref.startswith("#/$defs/"):
            schema = self.defs.get(ref.removeprefix("#/$defs/"), {})
            ref = schema.get("$ref")
        return schema

    def value(self, schema: Mapping[str, Any], path: str, depth: int) -> Any:
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            options = list(schema["enum"])
            return options[
                int(hashlib.sha256(f"{self.seed}:{path}".encode()).hexdigest(), 16) % len(options)
            ]
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                options = [o for o in schema[key] if self.resolve(o).get("type") != "null"]
                return self.value((options or schema[key])[0], path, depth)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object" or "properties" in schema:
            if depth >= MAX_DEPTH:
                return {}
            properties = schema.get("properties", {})
            return {
                name: self.value(sub, f"{path}.{name}", depth + 1)
                for name, sub in properties.items()
            }
        if kind == "array":
            return self.array(schema, path, depth)
        if kind == "string":
            return self.string(schema, path)
        if kind in ("integer", "number"):
            low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
            number = low + 1 if "exclusiveMinimum" in schema and "minimum" not in schema else low
            return int(number) if kind == "integer" else number
        if kind == "boolean":
            return False
        return None

    def array(self, schema: Mapping[str, Any], path: str, depth: int) -> list[Any]:
        name = path.rsplit(".", 1)[-1]
        wanted = self.counts.get(name)
        low = int(schema.get("minItems", 1 if depth < MAX_DEPTH else 0))
        size = int(wanted) if isinstance(wanted, int) and not isinstance(wanted, bool) else low
        size = max(size, low)
        if "maxItems" in schema:
            size = min(size, int(schema["maxItems"]))
        items = schema.get("items", {})
        return [self.value(items, f"{path}[{i}]", depth + 1) for i in range(size)]

    def string(self, schema: Mapping[str, Any], path: str) -> str:
        text = pick(self.pool, self.seed, path)
        low = int(schema.get("minLength", 0))
        while len(text) < low:
            text = f"{text} {text}"
        if "maxLength" in schema:
            text = clip(text, int(schema["maxLength"]))
        return text


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a word boundary where one is near."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space >= limit // 2 else cut


class OfflineProvider:
    name = "offline"
    offline = True

    def check_ready(self) -> None:
        return None

    def endpoint(self) -> str | None:
        return None

    def generate(self, request: GenerationRequest) -> GenerationResult:
        composer = request.offline_composer
        try:
            if composer is not None:
                reply = composer(request)
            else:
                reply = fill_schema(
                    request.response_schema, request.material, request.seed_material
                )
            text = orjson.dumps(reply).decode()
        except Exception as exc:  # noqa: BLE001 - the composer is pipeline code: the run fails
            raise ProviderError(
                f"the offline composer of this job type failed: {type(exc).__name__}: {exc}"
            ) from None
        return GenerationResult(text=text, model="offline", usage=None)
