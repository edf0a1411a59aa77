"""instagram_copy: N captions in a brand's voice about a topic, grounded in retrieved context."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sigilctl.pipelines.base import OutputError, Pipeline, read_template
from sigilctl.providers.base import GenerationRequest
from sigilctl.providers.offline import facts_of, hashtag, pick, sentences

SYSTEM_PROMPT = (
    "You are a senior brand copywriter. You write only in the brand's documented voice and "
    "reply with JSON that matches the requested schema."
)
OUTPUT_FILE = "captions.json"

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


class InstagramParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str = Field(min_length=1, max_length=500, description="What the captions are about.")
    count: int = Field(ge=1, le=20, description="How many captions to write.")


class Caption(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2200)
    hashtags: list[str] = Field(max_length=30)


class CaptionSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    captions: list[Caption]


class InstagramCopy(Pipeline[InstagramParams, CaptionSet]):
    name = "instagram_copy"
    version = "1.0.0"
    params_model = InstagramParams
    reply_model = CaptionSet
    system_prompt = SYSTEM_PROMPT
    prompt_template = read_template("sigilctl.pipelines", "templates/instagram_copy.txt")
    outputs = (OUTPUT_FILE,)
    generation_name = "caption_generation"
    step_name = "generate_captions"
    schema_name = "caption_set"

    def check_reply(self, reply: CaptionSet, params: InstagramParams) -> None:
        if len(reply.captions) != params.count:
            raise OutputError(
                f"the reply has {len(reply.captions)} captions, the brief asks for {params.count}"
            )

    def compose_offline(self, request: GenerationRequest) -> Any:
        """Captions from the material: a hook on the topic, a fact from context, a closer."""
        material, seed = request.material, request.seed_material
        topic = str(material.get("topic", "our work"))
        brand = str(material.get("brand", ""))
        facts = facts_of(material)
        rules = sentences(str(material.get("doctrine", "")))
        captions: list[dict[str, Any]] = []
        for i in range(int(material.get("count", 1))):
            salt = str(i)
            hook = pick(_HOOKS, seed, "hook" + salt)
            hook = hook.format(topic=topic, Topic=topic[:1].upper() + topic[1:])
            fact = facts[i % len(facts)] if facts else (rules[i % len(rules)] if rules else "")
            closer = pick(_CLOSERS, seed, "close" + salt)
            text = " ".join(part for part in (hook, fact, closer) if part)
            tags = [hashtag(brand), hashtag(topic)]
            if facts:
                words = re.findall(r"[A-Za-z]{6,}", fact)
                if words:
                    tags.append(hashtag(pick(words, seed, "tag" + salt)))
            captions.append({"text": text, "hashtags": list(dict.fromkeys(t for t in tags if t))})
        return {"captions": captions}
