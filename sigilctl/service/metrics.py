"""``GET /metrics``: Prometheus text, read at scrape time from the records themselves.

Runs by status and the run duration histogram come from the run index (every executed run of
every worker, not just this process's); queue depth from the queue; the trace spool backlog from
the spool folder. Cache hits and queued runs are counted by the API process that answered them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from sigilctl.errors import SigilError
from sigilctl.logs import get_logger
from sigilctl.service import index_view
from sigilctl.workspace import Workspace

if TYPE_CHECKING:
    from sigilctl.service.queue import Queue

log = get_logger("service")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Records(Collector):
    def __init__(self, workspace: Workspace, queue: Queue) -> None:
        self.workspace = workspace
        self.queue = queue

    def collect(self) -> Iterator[Metric]:
        yield from self._runs()
        depth = GaugeMetricFamily("sigilctl_queue_depth", "Tasks waiting in the queue.")
        try:
            depth.add_metric([], self.queue.depth())
            yield depth
        except Exception as exc:  # noqa: BLE001 - a scrape never fails for one source
            log.warning("queue depth unavailable for /metrics (%s)", type(exc).__name__)
        traces, size = index_view.spool_backlog(self.workspace)
        yield GaugeMetricFamily(
            "sigilctl_trace_spool_traces", "Traces waiting in the spool to be re-sent.", traces
        )
        yield GaugeMetricFamily(
            "sigilctl_trace_spool_bytes", "Bytes of traces waiting in the spool.", size
        )

    def _runs(self) -> Iterator[Metric]:
        try:
            stats = index_view.run_stats(self.workspace)
        except SigilError as exc:
            log.warning("run metrics unavailable (%s)", exc)
            return
        runs = GaugeMetricFamily("sigilctl_runs", "Runs in the index by status.", labels=["status"])
        for status in ("succeeded", "failed", "partial"):
            runs.add_metric([status], stats.by_status.get(status, 0))
        yield runs
        buckets = [(f"{bound:g}", float(count)) for bound, count in stats.buckets]
        buckets.append(("+Inf", float(stats.count)))
        yield HistogramMetricFamily(
            "sigilctl_run_duration_seconds",
            "Wall time of executed runs (from their manifests).",
            buckets=buckets,
            sum_value=stats.total_seconds,
        )


class Metrics:
    """The API process's registry: its own counters plus the record-derived collector."""

    def __init__(self, workspace: Workspace, queue: Queue) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.cache_hits = Counter(
            "sigilctl_cache_hits",
            "POST /jobs/run answered from a current succeeded run (no queue, no model call).",
            registry=self.registry,
        )
        self.queued = Counter(
            "sigilctl_runs_queued", "Runs queued by POST /jobs/run.", registry=self.registry
        )
        self.registry.register(_Records(workspace, queue))

    def render(self) -> bytes:
        return generate_latest(self.registry)
