"""What goes on the wire, checked against the Langfuse SDK (so an SDK change fails here, loudly)
and against the model of the server's rules that the local receiver uses to answer reads."""

from __future__ import annotations

import json

import pytest
from langfuse import Langfuse, LangfuseOtelSpanAttributes

from sigilctl import __version__
from sigilctl.observability import wire
from sigilctl.observability.export import SCOPE_NAME, encode_trace
from sigilctl.observability.otlp import ReceivedSpan, decode_spans
from sigilctl.observability.records import SpanRecord, TraceDocument, trace_id_for
from sigilctl.smoke.langfuse_view import server_estimates_cost, trace_view, tree_lines

TRACE_ID = "0123456789abcdef0123456789abcdef"


def document(**root_fields: object) -> TraceDocument:
    root = SpanRecord("job:demo", 1_000_000_000, end_ns=4_000_000_000, **root_fields)  # type: ignore[arg-type]
    step = SpanRecord("step", 1_500_000_000, parent_id=root.span_id, end_ns=3_000_000_000)
    call = SpanRecord(
        "call",
        2_000_000_000,
        parent_id=step.span_id,
        end_ns=2_500_000_000,
        type="generation",
        model="gpt-x",
        input="prompt",
        output=None,
        usage={"input": 0, "output": 0, "total": 0},
        cost={"input": 0.0, "output": 0.0, "total": 0.0},
        level="ERROR",
        status_message="HTTP 500",
    )
    return TraceDocument(
        trace_id=TRACE_ID,
        name="job:demo",
        tags=("demo", "brand"),
        metadata={"run_id": "ab" * 16, "job_id": "job-1"},
        environment="staging",
        release="r-7",
        spans=(root, step, call),
    )


def test_the_trace_id_is_the_sdks_own_seeded_id() -> None:
    seed = "sigilzero/trace/v1:" + "ab" * 16 + ":2026-01-01T00:00:00.000Z"
    assert trace_id_for("ab" * 16, "2026-01-01T00:00:00.000Z") == Langfuse.create_trace_id(
        seed=seed
    )
    assert trace_id_for("ab" * 16, "a") != trace_id_for("ab" * 16, "b")


WIRE_NAMES = sorted(n for n in vars(wire) if n.isupper() and n != "SCOPE_NAME")


@pytest.mark.parametrize("name", WIRE_NAMES)
def test_every_attribute_name_we_send_is_the_sdks_own(name: str) -> None:
    """Our spans use the SDK's public names (repeated so a run never loads the SDK): an SDK that
    renames one fails here."""
    assert getattr(LangfuseOtelSpanAttributes, name) == getattr(wire, name)


def test_the_names_the_server_reads_are_all_there() -> None:
    assert {getattr(wire, n) for n in WIRE_NAMES} >= {
        "langfuse.trace.name",
        "langfuse.trace.metadata",
        "langfuse.observation.type",
        "langfuse.observation.level",
        "langfuse.observation.usage_details",
        "langfuse.observation.cost_details",
        "langfuse.environment",
        "langfuse.release",
    }


def test_a_traced_run_loads_opentelemetry_but_never_the_langfuse_sdk() -> None:
    from tests.helpers import REPO, run_python

    script = (
        "import sys; import sigilctl.observability.export, sigilctl.observability.delivery; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'langfuse', 'opentelemetry'}))"
    )
    proc = run_python("-c", script, cwd=REPO)
    assert proc.stdout.strip() == "['opentelemetry']", proc.stdout + proc.stderr


def decoded(doc: TraceDocument) -> list[ReceivedSpan]:
    return decode_spans(encode_trace(doc), None)


def test_one_request_with_a_true_root_and_the_recorded_ids() -> None:
    doc = document(input={"job_id": "job-1"}, output={"status": "failed"})
    spans = {s.name: s for s in decoded(doc)}
    root, step, call = spans["job:demo"], spans["step"], spans["call"]
    assert {s.trace_id for s in spans.values()} == {TRACE_ID}
    assert root.parent_span_id is None  # no parent at all, not a fabricated one
    assert [root.span_id, step.span_id, call.span_id] == [s.span_id for s in doc.spans]
    assert step.parent_span_id == root.span_id and call.parent_span_id == step.span_id
    assert (root.start_ns, root.end_ns) == (1_000_000_000, 4_000_000_000)
    assert root.scope == SCOPE_NAME
    assert root.resource["service.name"] == "sigilctl"
    assert root.resource["service.version"] == __version__
    assert root.resource["langfuse.environment"] == "staging"
    assert root.resource["langfuse.release"] == "r-7"
    # governance ids as plain strings, not JSON-quoted
    assert root.attributes["langfuse.trace.metadata.run_id"] == "ab" * 16
    assert call.attributes["langfuse.observation.type"] == "generation"
    assert json.loads(call.attributes["langfuse.observation.usage_details"]) == {
        "input": 0,
        "output": 0,
        "total": 0,
    }
    assert call.status_code == 2 and call.attributes["langfuse.observation.level"] == "ERROR"


def test_what_langfuse_would_display_for_it() -> None:
    view = trace_view(decoded(document(input={"job_id": "job-1"}, output={"ok": 1})), TRACE_ID)
    assert view is not None
    assert view["name"] == "job:demo"
    assert view["input"] == {"job_id": "job-1"} and view["output"] == {"ok": 1}
    assert view["metadata"] == {"run_id": "ab" * 16, "job_id": "job-1"}
    assert (view["environment"], view["release"], view["tags"]) == (
        "staging",
        "r-7",
        ["demo", "brand"],
    )
    assert tree_lines(view) == [
        "job:demo (span)",
        "  step (span)",
        "    call (generation, ERROR)",
    ]
    call = next(o for o in view["observations"] if o["name"] == "call")
    assert (call["level"], call["statusMessage"], call["model"]) == ("ERROR", "HTTP 500", "gpt-x")
    assert not server_estimates_cost(call)  # usage and cost were sent (zero)
    assert view["latency"] == 3.0 and view["totalCost"] == 0.0


def test_the_models_rules_show_what_goes_wrong_when_spans_are_built_badly() -> None:
    """The failures issue 13 found, as Langfuse would display them."""
    fabricated = ReceivedSpan(
        TRACE_ID,
        "1" * 16,
        "f" * 16,
        "job:demo",
        1,
        2,
        {
            "langfuse.observation.input": '{"job_id": "x"}',
            "langfuse.trace.metadata.run_id": '"abc"',  # JSON-quoted, as SDK 5 sends it
        },
    )
    view = trace_view([fabricated], TRACE_ID)
    assert view is not None
    assert view["input"] is None and view["metadata"] == {}  # a parent was named: not the root
    quoted = ReceivedSpan(
        TRACE_ID, "1" * 16, None, "job:demo", 1, 2, {"langfuse.trace.metadata.run_id": '"abc"'}
    )
    stored = trace_view([quoted], TRACE_ID)
    assert stored is not None and stored["metadata"]["run_id"] != "abc"  # "=" abc finds nothing
    failed_call = ReceivedSpan(
        TRACE_ID,
        "2" * 16,
        "1" * 16,
        "call",
        1,
        2,
        {
            "langfuse.observation.type": "generation",
            "langfuse.observation.model.name": "gpt-4o-mini",
        },
    )
    observation = trace_view([quoted, failed_call], TRACE_ID)["observations"][1]  # type: ignore[index]
    assert server_estimates_cost(observation)  # priced by the server although nothing was paid
    assert trace_view([quoted], "9" * 32) is None


def test_the_receivers_project_list_satisfies_the_sdks_own_api_client() -> None:
    import httpx
    from langfuse.api import LangfuseAPI

    from sigilctl.smoke.receiver import OtlpReceiver

    with OtlpReceiver() as receiver, httpx.Client() as http:
        api = LangfuseAPI(
            base_url=receiver.base_url, username="pk-lf-x", password="sk-lf-y", httpx_client=http
        )
        projects = api.projects.get()
    assert projects.data[0].id == "project-local"
