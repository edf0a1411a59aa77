"""Step 9's model call: build the pipeline's request, call the provider, parse the reply.

A provider failure or a reply the pipeline rejects becomes the run's error (a ``failed`` run),
never a crash; the raw reply travels with it so the failed run can keep what was paid for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pydantic import BaseModel

from sigilctl.manifest import CostRecord
from sigilctl.pipelines.base import OutputError
from sigilctl.pipelines.inputs import PipelineInputs
from sigilctl.providers.base import GenerationRequest, GenerationResult, Provider, ProviderError
from sigilctl.providers.progress import OnCall, reporting
from sigilctl.resolve import ResolvedJob


@dataclass(frozen=True)
class Generation:
    """What the model call gave: the provider's result (if any), the parsed outputs or the
    error that failed the run, what it cost, and the sha256 of the prompt sent."""

    result: GenerationResult | None
    parsed: BaseModel | None
    error: str | None
    cost: CostRecord
    prompt_sha256: str

    @property
    def raw(self) -> str | None:
        """The reply as received, when there was one."""
        return self.result.raw if self.result is not None else None


def generate(
    job: ResolvedJob,
    inputs: PipelineInputs,
    provider: Provider,
    on_call: OnCall | None = None,
) -> Generation:
    """Call the provider; a provider or output failure becomes the run's error, not a crash.

    The request is built from the frozen snapshots alone, as ``replay`` builds it. Called with
    the run's trace current (``obs.active()``), so the pipeline's own spans nest under it.
    ``on_call`` hears how the call is going (sigilctl.providers.progress)."""
    from sigilctl.audit.request import prompt_sha256
    from sigilctl.observability import trace_step

    pipeline = job.pipeline
    request = pipeline.build_request(inputs)
    prompt_hash = prompt_sha256(request)
    result: GenerationResult | None = None
    try:
        with trace_step(pipeline.step_name, model=request.model, provider=request.provider):
            called_at = time.time_ns()
            try:
                with reporting(on_call):
                    result = provider.generate(request)
            except ProviderError as exc:
                cost = _cost(job, exc.result)
                name = pipeline.generation_name
                _trace_generation(name, request, exc.result, cost, called_at, exc.message)
                raise
            cost = _cost(job, result)
            _trace_generation(pipeline.generation_name, request, result, cost, called_at)
            parsed = pipeline.parse_reply(result.text, inputs)
    except ProviderError as exc:
        return Generation(result or exc.result, None, exc.message, cost, prompt_hash)
    except OutputError as exc:
        return Generation(result, None, str(exc), cost, prompt_hash)
    return Generation(result, parsed, None, cost, prompt_hash)


def _cost(job: ResolvedJob, result: GenerationResult | None) -> CostRecord:
    """What the generation cost (SPEC §12): the same record in the manifest and the trace."""
    from sigilctl.cost import price_generation

    model_config = job.snapshots["model_config"]
    return price_generation(
        provider=model_config["provider"],
        model=model_config["name"],
        usage=result.usage if result else None,
        reported_model=result.model if result else None,
        override=job.brief.model.price,
    )


def _trace_generation(
    name: str,
    request: GenerationRequest,
    result: GenerationResult | None,
    cost: CostRecord,
    start_ns: int,
    error: str | None = None,
) -> None:
    """Record the LLM call as a generation, also when it failed: level ERROR, with its usage
    and cost sent explicitly (zero when unknown) so the server never estimates a price."""
    from sigilctl.cost import cost_details
    from sigilctl.observability import trace_llm_call

    trace_llm_call(
        name=name,
        model=result.model if result else request.model,
        prompt=request.prompt,
        response=result.text if result else None,
        usage=result.usage.as_dict() if result and result.usage else None,
        cost_details=cost_details(cost),
        model_parameters={
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "seed": request.seed,
        },
        error=error,
        start_ns=start_ns,
    )
