"""The offline provider: deterministic captions with no network, for demos, CI and dry runs.

It writes from the request's structured material (topic, doctrine rules, retrieved context) and
picks phrasing with sha256(inputs_hash, i), so the same inputs give the same bytes everywhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import orjson

from sigilctl.providers.base import GenerationRequest, GenerationResult

GENERATOR_VERSION = "sigilctl-offline/1"

_HOOKS = (
    "Let's talk about {topic}.",
    "{Topic}, done properly.",
    "A note on {topic}:",
    "What we mean by {topic}:",
    "Here is how we think about {topic}.",
    "{Topic}, without the noise.",
)
_CLOSERS = (
    "Save this for later.",
    "Tell us how you would do it.",
    "More soon.",
    "Share it with someone who needs it.",
    "That is the whole point.",
)


def _pick(options: Sequence[str], seed: str, salt: str) -> str:
    digest = hashlib.sha256(f"{seed}:{salt}".encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def _sentences(text: str) -> list[str]:
    body = " ".join(line.strip() for line in text.splitlines() if not line.startswith("#"))
    parts = re.split(r"(?<=[.!?])\s+", body)
    return [p.strip(" -*") for p in parts if 30 <= len(p.strip()) <= 220]


def _hashtag(words: str) -> str:
    return "#" + "".join(w.capitalize() for w in re.findall(r"[A-Za-z0-9]+", words))


class OfflineProvider:
    name = "offline"
    offline = True

    def check_ready(self) -> None:
        return None

    def endpoint(self) -> str | None:
        return None

    def generate(self, request: GenerationRequest) -> GenerationResult:
        material = request.material
        topic = str(material.get("topic", "our work"))
        brand = str(material.get("brand", ""))
        count = int(material.get("count", 1))
        facts: list[str] = []
        for document in material.get("documents", []):
            facts.extend(_sentences(str(document.get("text", ""))))
        rules = _sentences(str(material.get("doctrine", "")))
        captions: list[dict[str, Any]] = []
        for i in range(count):
            salt = str(i)
            hook = _pick(_HOOKS, request.seed_material, "hook" + salt)
            hook = hook.format(topic=topic, Topic=topic[:1].upper() + topic[1:])
            fact = facts[i % len(facts)] if facts else (rules[i % len(rules)] if rules else "")
            closer = _pick(_CLOSERS, request.seed_material, "close" + salt)
            text = " ".join(part for part in (hook, fact, closer) if part)
            tags = [_hashtag(brand), _hashtag(topic)]
            if facts:
                words = re.findall(r"[A-Za-z]{6,}", fact)
                if words:
                    tags.append(_hashtag(_pick(words, request.seed_material, "tag" + salt)))
            captions.append({"text": text, "hashtags": list(dict.fromkeys(t for t in tags if t))})
        reply = orjson.dumps({"captions": captions}).decode()
        return GenerationResult(text=reply, model="offline", usage=None)
