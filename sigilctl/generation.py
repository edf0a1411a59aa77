"""Step 9's model call: build the pipeline's request, call the provider, parse the reply.

A provider failure or a reply the pipeline rejects becomes the run's error (a ``failed`` run),
never a crash; the raw reply travels with it so the failed run can keep what was paid for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from sigilctl.identity import Identity
from sigilctl.pipelines.base import OutputError
from sigilctl.providers.base import GenerationRequest, GenerationResult, Provider, ProviderError
from sigilctl.resolve import ResolvedJob


@dataclass(frozen=True)
class Generation:
    """What the model call gave: the provider's result (if any), the parsed outputs or the
    error that failed the run."""

    result: GenerationResult | None
    parsed: BaseModel | None
    error: str | None

    @property
    def raw(self) -> str | None:
        """The reply as received, when there was one."""
        return self.result.raw if self.result is not None else None


def generate(job: ResolvedJob, identity: Identity, provider: Provider, trace: Any) -> Generation:
    """Call the provider; a provider or output failure becomes the run's error, not a crash."""
    snapshots = job.snapshots
    request = job.pipeline.build_request(
        params=job.params,
        brand=job.brief.brand,
        doctrine=snapshots["doctrine"],
        context=snapshots["context"],
        model_config=snapshots["model_config"],
        inputs_hash=identity.inputs_hash,
    )
    from sigilctl import observability

    result: GenerationResult | None = None
    try:
        with observability.trace_step(
            trace, "generate_captions", model=request.model, provider=request.provider
        ):
            called_at = time.time_ns()
            try:
                result = provider.generate(request)
            except ProviderError as exc:
                _trace_generation(trace, request, exc.result, called_at, error=exc.message)
                raise
            _trace_generation(trace, request, result, called_at)
            parsed = job.pipeline.parse_reply(result.text, job.params)
    except ProviderError as exc:
        return Generation(result or exc.result, None, exc.message)
    except OutputError as exc:
        return Generation(result, None, str(exc))
    return Generation(result, parsed, None)


def _trace_generation(
    trace: Any,
    request: GenerationRequest,
    result: GenerationResult | None,
    start_ns: int,
    error: str | None = None,
) -> None:
    """Record the LLM call as a generation, also when it failed (usage may still be known)."""
    from sigilctl import observability

    observability.trace_llm_call(
        trace,
        name="caption_generation",
        model=result.model if result else request.model,
        prompt=request.prompt,
        response=result.text if result else None,
        usage=result.usage.as_dict() if result and result.usage else None,
        cost_usd=result.cost_usd if result else None,
        model_parameters={
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "seed": request.seed,
        },
        metadata={"error": error} if error else None,
        start_ns=start_ns,
    )
