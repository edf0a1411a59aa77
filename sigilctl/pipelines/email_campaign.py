"""email_campaign: one marketing email — subject lines for an A/B test, a preview text, body
sections and a call to action — in a brand's voice, grounded in retrieved context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from sigilctl.pipelines.base import OutputError, Pipeline, read_template
from sigilctl.pipelines.inputs import PipelineInputs
from sigilctl.providers.base import GenerationRequest
from sigilctl.providers.offline import clip, facts_of, pick, sentences

SYSTEM_PROMPT = (
    "You are a senior email marketer. You write only in the brand's documented voice, never "
    "invent facts, and reply with JSON that matches the requested schema."
)
SUBJECT_MAX = 78
PREVIEW_MAX = 140
HEADING_MAX = 120
BODY_MAX = 1500
CTA_MAX = 80

_SUBJECTS = (
    "{Topic}",
    "{Topic}: what changes for you",
    "A closer look at {topic}",
    "Why {topic} matters now",
    "{Topic}, explained in five minutes",
    "What we learned about {topic}",
    "{Topic}, without the noise",
    "The short version: {topic}",
    "Your questions about {topic}, answered",
    "How {brand} approaches {topic}",
)
_ACTIONS = (
    "Read the full story",
    "See how it works",
    "Reply and tell us what you think",
    "Try it on your next job",
)


class EmailParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str = Field(min_length=1, max_length=500, description="What the email is about.")
    audience: str = Field(
        default="our subscribers", min_length=1, max_length=300, description="Who receives it."
    )
    subject_lines: int = Field(
        default=3, ge=1, le=10, description="How many subject lines to propose (A/B test)."
    )
    sections: int = Field(default=3, ge=1, le=8, description="How many body sections.")
    call_to_action: str | None = Field(
        default=None,
        min_length=1,
        max_length=CTA_MAX,
        description="The action readers should take; the model proposes one when absent.",
    )


class EmailSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    heading: str = Field(min_length=1, max_length=HEADING_MAX)
    body: str = Field(min_length=1, max_length=BODY_MAX)


class EmailDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_lines: list[Annotated[str, Field(min_length=1, max_length=SUBJECT_MAX)]]
    preview_text: str = Field(min_length=1, max_length=PREVIEW_MAX)
    sections: list[EmailSection]
    call_to_action: str = Field(min_length=1, max_length=CTA_MAX)


class EmailCampaign(Pipeline[EmailParams, EmailDraft]):
    name = "email_campaign"
    version = "1.0.0"
    params_model = EmailParams
    reply_model = EmailDraft
    system_prompt = SYSTEM_PROMPT
    prompt_template = read_template("sigilctl.pipelines", "templates/email_campaign.txt")
    outputs = ("email.json", "email.md")
    generation_name = "email_generation"
    step_name = "generate_email"
    schema_name = "email_campaign"

    def prompt_variables(self, inputs: PipelineInputs, params: EmailParams) -> Mapping[str, object]:
        hint = f', which must be "{params.call_to_action}"' if params.call_to_action else ""
        return {**super().prompt_variables(inputs, params), "call_to_action_hint": hint}

    def check_reply(self, reply: EmailDraft, params: EmailParams) -> None:
        problems = []
        if len(reply.subject_lines) != params.subject_lines:
            problems.append(
                f"{len(reply.subject_lines)} subject lines, the brief asks for "
                f"{params.subject_lines}"
            )
        elif len(set(reply.subject_lines)) != len(reply.subject_lines):
            problems.append("repeated subject lines")
        if len(reply.sections) != params.sections:
            problems.append(f"{len(reply.sections)} sections, the brief asks for {params.sections}")
        if problems:
            raise OutputError(f"the reply has {' and '.join(problems)}")

    def render_outputs(self, reply: EmailDraft, params: EmailParams) -> Mapping[str, bytes]:
        data = orjson.dumps(reply.model_dump(mode="json"), option=orjson.OPT_INDENT_2)
        lines = [f"Subject: {reply.subject_lines[0]}"]
        lines += [f"Subject (variant {i}): {s}" for i, s in enumerate(reply.subject_lines[1:], 2)]
        lines += [f"Preview: {reply.preview_text}", ""]
        for section in reply.sections:
            lines += [f"## {section.heading}", "", section.body, ""]
        lines.append(f"**{reply.call_to_action}**")
        return {"email.json": data + b"\n", "email.md": ("\n".join(lines) + "\n").encode()}

    def compose_offline(self, request: GenerationRequest) -> Any:
        """An email from the material: subjects on the topic, sections from the documents."""
        material, seed = request.material, request.seed_material
        topic = str(material.get("topic", "our work"))
        brand = str(material.get("brand", ""))
        values = {"topic": topic, "Topic": topic[:1].upper() + topic[1:], "brand": brand}
        first = _SUBJECTS.index(pick(_SUBJECTS, seed, "subject"))
        subjects = [
            clip(_SUBJECTS[(first + i) % len(_SUBJECTS)].format(**values), SUBJECT_MAX)
            for i in range(int(material.get("subject_lines", 3)))
        ]
        facts = facts_of(material) or sentences(str(material.get("doctrine", ""))) or [topic]
        documents = list(material.get("documents", [])) or [
            {"text": str(material.get("doctrine", ""))}
        ]
        sections = []
        for i in range(int(material.get("sections", 3))):
            text = str(documents[i % len(documents)].get("text", ""))
            heading = next(
                (line.lstrip("#").strip() for line in text.splitlines() if line.startswith("# ")),
                f"Part {i + 1}",
            )
            body = " ".join(sentences(text)[:3]) or facts[i % len(facts)]
            sections.append({"heading": clip(heading, HEADING_MAX), "body": clip(body, BODY_MAX)})
        action = material.get("call_to_action") or pick(_ACTIONS, seed, "action")
        return {
            "subject_lines": subjects,
            "preview_text": clip(pick(facts, seed, "preview"), PREVIEW_MAX),
            "sections": sections,
            "call_to_action": clip(str(action), CTA_MAX),
        }
