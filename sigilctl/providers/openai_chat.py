"""The openai provider: Chat Completions with a strict JSON Schema, against any compatible server.

Chat Completions is the one API every OpenAI-compatible server implements. The endpoint and key
come from the environment only (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``), never from a brief,
so they never reach a snapshot. Retries are ours (see ``retry.py``): the client's own are off.
The ``openai`` package is imported only when a request is sent.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sigilctl import env
from sigilctl.errors import InputError
from sigilctl.logs import get_logger
from sigilctl.providers.base import GenerationRequest, GenerationResult, ProviderError, Usage
from sigilctl.providers.progress import CallProgress, report
from sigilctl.providers.retry import GaveUp, Retryable, RetryPolicy, call_with_retries, parse_policy

if TYPE_CHECKING:
    from openai import OpenAI

DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRY_STATUSES = frozenset({408, 409, 429})
# JSON Schema keywords that strict structured output accepts; others (minLength, maxLength,
# default, ...) are dropped from the request. The reply is still validated by the pipeline's
# pydantic model, so nothing the schema says is lost.
STRICT_KEYWORDS = frozenset(
    {
        "type", "properties", "required", "additionalProperties", "items", "$defs", "$ref",
        "anyOf", "enum", "const", "description", "title", "pattern", "format", "minimum",
        "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems",
    }
)  # fmt: skip
_KEY_LIKE = re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_*.\-]{6,}")
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n(.*?)\n?```\s*$", re.DOTALL)
log = get_logger("providers.openai")


def public_endpoint(url: str) -> str:
    """The base URL without user info, query or fragment: safe for manifests and messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return redact(urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", "")))


def redact(text: str) -> str:
    """Remove secrets from text that came from a server: our keys, and anything key-shaped."""
    return _KEY_LIKE.sub("***", env.scrub(text))


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` that strict structured output accepts.

    Every object lists all its properties as required and forbids others; keywords strict mode
    does not support are dropped.
    """
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in STRICT_KEYWORDS:
            continue
        if key in ("properties", "$defs"):
            out[key] = {name: strict_schema(sub) for name, sub in value.items()}
        elif key == "items" and isinstance(value, Mapping):
            out[key] = strict_schema(value)
        elif key == "anyOf":
            out[key] = [strict_schema(sub) for sub in value]
        else:
            out[key] = value
    if out.get("type") == "object" or "properties" in out:
        out["additionalProperties"] = False
        out["required"] = list(out.get("properties", {}))
    return out


def unfence(text: str) -> str:
    """The reply without a surrounding Markdown code fence (some compatible servers add one)."""
    match = _FENCE.match(text)
    return match.group(1) if match else text


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Message(_Reply):
    content: str | None = None
    refusal: str | None = None


class _Choice(_Reply):
    message: _Message
    finish_reason: str | None = None


class _Usage(_Reply):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


class _Completion(_Reply):
    model: str | None = None
    choices: list[_Choice] = Field(min_length=1)
    usage: _Usage | None = None


class OpenAIProvider:
    name = "openai"
    offline = False

    def check_ready(self) -> None:
        """Fail before anything is written if the environment cannot drive a request."""
        if env.get(env.OPENAI_API_KEY) is None:
            raise InputError(
                f"{env.OPENAI_API_KEY} is not set; the openai provider needs it "
                "(or run with --provider offline)"
            )
        self._base_url()
        self._policy()

    def endpoint(self) -> str | None:
        return public_endpoint(self._base_url())

    def generate(self, request: GenerationRequest) -> GenerationResult:
        from openai import OpenAI

        self.check_ready()
        policy = self._policy()
        body = request_body(request)
        call = CallProgress(
            self.name,
            request.model,
            self.endpoint(),
            attempt=1,
            attempts=policy.max_retries + 1,
            started=time.monotonic(),
            deadline_s=policy.budget,
        )

        def attempting(attempt: int) -> None:
            report(replace(call, attempt=attempt))

        def waiting(attempt: int, failure: Retryable, wait: float) -> None:
            self._log_retry(attempt, failure, wait)
            report(replace(call, attempt=attempt, waiting_s=wait, reason=failure.reason))

        with (
            OpenAI(
                api_key=env.get(env.OPENAI_API_KEY),
                base_url=self._base_url(),
                max_retries=0,
                timeout=policy.timeout,
            ) as client,
            _reported_done(call),
        ):
            try:
                raw, attempts = call_with_retries(
                    lambda timeout: self._send(client, body, timeout),
                    policy,
                    on_retry=waiting,
                    on_attempt=attempting,
                )
            except GaveUp as exc:
                raise ProviderError(
                    f"the OpenAI-compatible server at {self.endpoint()} kept failing "
                    f"({exc.last.reason}) after {exc.attempts} attempt"
                    f"{'s' if exc.attempts != 1 else ''}",
                    result=GenerationResult(text="", model=request.model, attempts=exc.attempts),
                ) from None
        return self._result(raw, request, attempts)

    def _base_url(self) -> str:
        url = env.get(env.OPENAI_BASE_URL) or DEFAULT_BASE_URL
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                f"{env.OPENAI_BASE_URL} must be an http(s) URL such as {DEFAULT_BASE_URL}"
            )
        if parts.username or parts.password:
            # The HTTP client would turn user:password@ into Basic auth and drop the Bearer key.
            raise InputError(
                f"{env.OPENAI_BASE_URL} must not carry credentials (user:password@); "
                f"the key goes in {env.OPENAI_API_KEY}"
            )
        return url

    def _policy(self) -> RetryPolicy:
        return parse_policy(
            env.get(env.SIGILCTL_OPENAI_TIMEOUT), env.get(env.SIGILCTL_OPENAI_MAX_RETRIES)
        )

    def _send(self, client: OpenAI, body: dict[str, Any], timeout: float) -> bytes:
        """One attempt: the reply body, Retryable for transient failures, ProviderError else."""
        import openai

        try:
            response = client.chat.completions.with_raw_response.create(**body, timeout=timeout)
        except openai.APITimeoutError:
            raise Retryable(f"no reply within {timeout:g} s") from None
        except openai.APIConnectionError:
            raise Retryable("connection error") from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            headers = exc.response.headers
            transient = status in RETRY_STATUSES or status >= 500
            if headers.get("x-should-retry") in ("true", "false"):
                transient = headers.get("x-should-retry") == "true"
            if transient:
                from sigilctl.providers.retry import retry_after_seconds

                raise Retryable(f"HTTP {status}", retry_after_seconds(dict(headers))) from None
            raise ProviderError(self._refusal(status, exc.body)) from None
        return response.content

    def _refusal(self, status: int, body: object) -> str:
        where = f"the OpenAI-compatible server at {self.endpoint()}"
        if status in (401, 403):
            return f"{where} rejected {env.OPENAI_API_KEY} (HTTP {status})"
        detail = ""
        if isinstance(body, Mapping):
            inner = body.get("error", body)
            message = inner.get("message") if isinstance(inner, Mapping) else None
            if isinstance(message, str) and message:
                detail = f": {redact(message)[:300]}"
        return f"{where} refused the request (HTTP {status}){detail}"

    def _result(self, raw: bytes, request: GenerationRequest, attempts: int) -> GenerationResult:
        where = f"the OpenAI-compatible server at {self.endpoint()}"
        body = redact(raw.decode("utf-8", "replace"))
        try:
            completion = _Completion.model_validate(orjson.loads(raw))
        except (orjson.JSONDecodeError, ValidationError):
            raise ProviderError(
                f"{where} answered with a body that is not a chat completion",
                result=GenerationResult(text="", model=request.model, attempts=attempts, raw=body),
            ) from None
        usage = None
        if completion.usage is not None:
            usage = Usage(**completion.usage.model_dump())
        choice = completion.choices[0]
        text = unfence(choice.message.content or "")
        result = GenerationResult(
            text=text,
            model=completion.model or request.model,
            usage=usage,
            attempts=attempts,
            raw=body,
        )
        problem = None
        if choice.message.refusal:
            problem = f"the model refused: {redact(choice.message.refusal)[:300]}"
        elif choice.finish_reason == "length":
            problem = (
                f"the reply was cut off at max_tokens={request.max_tokens} before it was "
                "complete; raise model.max_tokens in the brief"
            )
        elif choice.finish_reason == "content_filter":
            problem = f"{where} withheld the reply (finish_reason content_filter)"
        elif not text.strip():
            problem = f"{where} sent a reply with no message content"
        if problem:
            raise ProviderError(problem, result=result)
        return result

    @staticmethod
    def _log_retry(attempt: int, failure: Retryable, wait: float) -> None:
        log.info("attempt %d failed (%s); retrying in %.2f s", attempt, failure.reason, wait)


@contextlib.contextmanager
def _reported_done(call: CallProgress) -> Iterator[None]:
    """Tell the progress callback the call is over, however it ended."""
    try:
        yield
    finally:
        report(replace(call, done=True))


def request_body(request: GenerationRequest) -> dict[str, Any]:
    """The Chat Completions parameters sent for a request (no endpoint, no key)."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.prompt},
        ],
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": request.schema_name,
                "schema": strict_schema(request.response_schema),
                "strict": True,
            },
        },
    }
    if request.seed is not None:
        body["seed"] = request.seed
    return body
