"""The span attribute names Langfuse reads: the contract between our spans and its server.

They are the Langfuse SDK's public ``LangfuseOtelSpanAttributes`` (v5), repeated here so that a
traced run never loads the SDK itself (importing it cost ~0.2 s of every traced CLI run, plus
its teardown at exit); ``tests/unit/test_trace_wire.py`` pins every name to the installed SDK,
so an SDK that renames one fails the tests loudly.
"""

from __future__ import annotations

TRACE_NAME = "langfuse.trace.name"
TRACE_TAGS = "langfuse.trace.tags"
TRACE_METADATA = "langfuse.trace.metadata"
OBSERVATION_TYPE = "langfuse.observation.type"
OBSERVATION_METADATA = "langfuse.observation.metadata"
OBSERVATION_LEVEL = "langfuse.observation.level"
OBSERVATION_STATUS_MESSAGE = "langfuse.observation.status_message"
OBSERVATION_INPUT = "langfuse.observation.input"
OBSERVATION_OUTPUT = "langfuse.observation.output"
OBSERVATION_MODEL = "langfuse.observation.model.name"
OBSERVATION_MODEL_PARAMETERS = "langfuse.observation.model.parameters"
OBSERVATION_USAGE_DETAILS = "langfuse.observation.usage_details"
OBSERVATION_COST_DETAILS = "langfuse.observation.cost_details"
ENVIRONMENT = "langfuse.environment"
RELEASE = "langfuse.release"

# The SDK's tracer (instrumentation scope) name: the server reads spans of this scope as
# Langfuse-dialect spans (no raw attribute dump added to their metadata).
SCOPE_NAME = "langfuse-sdk"
