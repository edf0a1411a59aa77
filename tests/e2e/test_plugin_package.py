"""A job type from a package of its own, as a team would write it (docs/pipelines.md).

The package is built in the test from a temp folder (its own pyproject.toml and entry point)
by pip with setuptools and installed with ``--target`` into a temp folder that only the child
processes see (``PYTHONPATH``): the test venv is left as it was. A job of its type then runs
end to end through the real CLI — pipelines, run, verify, show, its trace to the local
receiver, and a replay from the run's own inputs/ — and a second, broken plugin package (a
hand-written dist-info: a missing module and a malformed version) is named with its error
without breaking anything else.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sigilctl.pipelines.registry import job_type_names
from sigilctl.smoke.receiver import OtlpReceiver
from tests.helpers import REPO, Result, run_python, run_subprocess

pytestmark = pytest.mark.slow

PLUGIN_DIST = "sigil-taglines"
JOB = "tag-001"

DOC = REPO / "docs" / "pipelines.md"


def doc_block(step: str) -> str:
    """The first fenced block after the line starting with ``step`` in docs/pipelines.md."""
    text = DOC.read_text()
    after = text[text.index("\n" + step) :]
    body = after[after.index("```") :].split("\n", 1)[1]
    return body[: body.index("```")]


# The package and the brief are the ones docs/pipelines.md walks through, read from it: the
# document is tested, not a copy of it.
PYPROJECT = doc_block("**2. `pyproject.toml`**")
PROMPT = doc_block("**3. The prompt template**")
MODULE = doc_block("**4. The pipeline**")
BRIEF = doc_block("**6. A brief**")

BROKEN_ENTRY_POINTS = """
[sigilctl.pipelines]
broken_import = sigil_broken.missing:Thing
bad_version = sigil_broken:BadVersion
"""

BROKEN_MODULE = """
from sigilctl.api import Pipeline

class BadVersion(Pipeline):
    name = "bad_version"
    version = "one"
"""

REPLAY = """
import sys
from pathlib import Path
from sigilctl.pipelines import PipelineInputs, get_pipeline
from sigilctl.providers.offline import OfflineProvider

inputs_dir, outputs_dir = Path(sys.argv[1]), Path(sys.argv[2])
snapshots = {p.name.removesuffix(".resolved.json"): p.read_bytes() for p in inputs_dir.iterdir()}
inputs = PipelineInputs.from_snapshots(snapshots)
pipeline = get_pipeline(inputs.pipeline["job_type"])
request = pipeline.build_request(inputs)
reply = pipeline.parse_reply(OfflineProvider().generate(request).text, inputs)
files = pipeline.render_outputs(reply, pipeline.params_of(inputs))
same = all((outputs_dir / n).read_bytes() == d for n, d in files.items())
print(inputs.inputs_hash, sorted(files), same)
"""


def build_plugin(source: Path, target: Path) -> None:
    (source / "sigil_taglines").mkdir(parents=True)
    (source / "pyproject.toml").write_text(PYPROJECT)
    (source / "sigil_taglines" / "__init__.py").write_text(MODULE)
    (source / "sigil_taglines" / "prompt.txt").write_text(PROMPT)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    shutil.rmtree(source / "build", ignore_errors=True)


def write_broken_plugin(target: Path) -> None:
    """A distribution installed by hand: a dist-info with METADATA and entry_points.txt."""
    info = target / "sigil_broken-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sigil-broken\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(BROKEN_ENTRY_POINTS)
    (target / "sigil_broken").mkdir()
    (target / "sigil_broken" / "__init__.py").write_text(BROKEN_MODULE)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("plugins")
    build_plugin(base / "src", base / "site")
    write_broken_plugin(base / "broken")
    return {"plugin": base / "site", "broken": base / "broken"}


@pytest.fixture
def plugin_workspace(workspace: Path) -> Path:
    (workspace / "jobs" / JOB).mkdir()
    (workspace / "jobs" / JOB / "brief.yaml").write_text(BRIEF)
    return workspace


def sigilctl(cwd: Path, path: list[Path], *args: str, env: dict[str, str] | None = None) -> Result:
    pythonpath = {"PYTHONPATH": ":".join(str(p) for p in path)}
    return run_subprocess(*args, cwd=cwd, env={**pythonpath, **(env or {})})


def test_a_plugin_job_runs_verifies_shows_traces_and_replays(
    sites: dict[str, Path], plugin_workspace: Path, tmp_path: Path
) -> None:
    path = [sites["plugin"]]
    listed = sigilctl(plugin_workspace, path, "pipelines", "--json")
    assert listed.code == 0, listed.stderr
    entry = {p["name"]: p for p in json.loads(listed.stdout)["pipelines"]}["taglines"]
    assert (entry["package"], entry["package_version"], entry["version"]) == (
        PLUGIN_DIST,
        "0.3.0",
        "0.3.0",
    )
    assert entry["builtin"] is False and entry["ok"] is True
    assert entry["params_schema"]["properties"]["count"]["maximum"] == 5

    with OtlpReceiver() as receiver:
        langfuse = {
            "LANGFUSE_PUBLIC_KEY": f"pk-lf-{uuid.uuid4().hex}",
            "LANGFUSE_SECRET_KEY": "sk-lf-plugin-test",
            "LANGFUSE_BASE_URL": receiver.base_url,
        }
        ran = sigilctl(plugin_workspace, path, "run", JOB, "--json", env=langfuse)
        assert ran.code == 0, ran.stderr
        out = json.loads(ran.stdout)
        spans = {s.name: s for s in receiver.wait_for_spans(15)}
    run_dir = Path(out["run_dir"])
    assert out["status"] == "succeeded" and out["langfuse_trace_id"]

    # its spans sit under the run's root, its trace_function span carries args and result
    root = spans["job:taglines"]
    assert root.parent_span_id not in {s.span_id for s in spans.values()}
    assert spans["plugin_prepare"].parent_span_id == root.span_id
    assert spans["plugin_prepare"].attr_json("langfuse.observation.input") == {
        "product": "sigilctl verify"
    }
    assert spans["plugin_prepare"].attr_json("langfuse.observation.output") == {
        "loud": "SIGILCTL VERIFY"
    }
    shout = spans["shout"]
    assert shout.parent_span_id == spans["plugin_prepare"].span_id
    assert shout.attr_json("langfuse.observation.input") == {"product": "sigilctl verify"}
    assert shout.attributes["langfuse.observation.output"] == "SIGILCTL VERIFY"  # text as is
    assert spans["tagline_generation"].parent_span_id == spans["generate_taglines"].span_id
    assert spans["generate_taglines"].parent_span_id == root.span_id
    assert {s.trace_id for s in spans.values()} == {out["langfuse_trace_id"]}

    verified = sigilctl(plugin_workspace, path, "verify", str(run_dir))
    assert verified.code == 0, verified.stdout + verified.stderr
    shown = json.loads(sigilctl(plugin_workspace, path, "show", JOB, "--json").stdout)
    assert (shown["job_type"], shown["pipeline_version"]) == ("taglines", "0.3.0")
    assert [a["path"] for a in shown["artifacts"]] == ["outputs/taglines.json"]
    taglines = json.loads((run_dir / "outputs/taglines.json").read_text())["taglines"]
    assert len(taglines) == 3 and all(0 < len(t) <= 60 for t in taglines)
    pipeline_snapshot = json.loads((run_dir / "inputs/pipeline.resolved.json").read_text())
    assert pipeline_snapshot["version"] == "0.3.0"
    assert "${loud}" in pipeline_snapshot["prompt_template"]

    # replay: the run's inputs/ alone, copied away from any workspace, give the same bytes
    alone = tmp_path / "alone"
    shutil.copytree(run_dir / "inputs", alone / "inputs")
    script = tmp_path / "replay.py"
    script.write_text(REPLAY)
    replayed = run_python(
        str(script),
        str(alone / "inputs"),
        str(run_dir / "outputs"),
        cwd=alone,
        env={"PYTHONPATH": str(sites["plugin"])},
    )
    assert replayed.code == 0, replayed.stderr
    assert replayed.stdout.split() == [out["inputs_hash"], "['taglines.json']", "True"]


def test_a_broken_plugin_is_named_and_breaks_nothing_else(
    sites: dict[str, Path], plugin_workspace: Path
) -> None:
    path = [sites["plugin"], sites["broken"]]
    listed = sigilctl(plugin_workspace, path, "pipelines", "--json")
    assert listed.code == 0, listed.stderr
    document = json.loads(listed.stdout)
    assert document["ok"] is False
    by_name = {p["name"]: p for p in document["pipelines"]}
    broken = by_name["broken_import"]
    assert broken["package"] == "sigil-broken" and broken["ok"] is False
    assert "cannot be imported: ModuleNotFoundError" in broken["error"]
    assert "sigil_broken.missing" in broken["error"]
    assert "version 'one' is not a semantic version" in by_name["bad_version"]["error"]
    assert all(by_name[n]["ok"] for n in ("instagram_copy", "email_campaign", "taglines"))

    checked = sigilctl(plugin_workspace, path, "pipelines", "--check")
    assert checked.code == 1
    assert "broken_import" in checked.stdout and "ModuleNotFoundError" in checked.stderr

    for job in ("ig-test-001", JOB):  # other job types still run
        ran = sigilctl(plugin_workspace, path, "run", job, "--json")
        assert ran.code == 0, ran.stderr
    (plugin_workspace / "jobs" / "broken-001").mkdir()
    brief = BRIEF.replace("job_id: tag-001", "job_id: broken-001")
    (plugin_workspace / "jobs" / "broken-001" / "brief.yaml").write_text(
        brief.replace("job_type: taglines", "job_type: broken_import")
    )
    refused = sigilctl(plugin_workspace, path, "run", "broken-001")
    assert refused.code == 2
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert "job type 'broken_import' (from sigil-broken 0.1.0) cannot be imported" in refused.stderr

    schema = sigilctl(plugin_workspace, path, "schema", "brief")
    assert schema.code == 0
    assert "left out of the schema" in schema.stderr
    assert json.loads(schema.stdout)["properties"]["job_type"]["enum"] == [
        "email_campaign",
        "instagram_copy",
        "taglines",
    ]

    helped = sigilctl(plugin_workspace, path, "--help")
    assert helped.code == 0 and helped.stderr == "" and "pipelines" in helped.stdout
    probe = (
        "import sys\nfrom sigilctl.cli import run_cli\nrun_cli(['--help'])\n"
        "print('loaded', [m for m in sys.modules if m.startswith(('sigilctl.pipelines', "
        "'sigil_'))])\n"
    )
    loaded = run_python(
        "-c", probe, cwd=plugin_workspace, env={"PYTHONPATH": ":".join(map(str, path))}
    )
    assert loaded.stdout.strip().endswith("loaded []"), loaded.stdout + loaded.stderr


def test_the_test_venv_is_left_as_it_was(sites: dict[str, Path]) -> None:
    assert sites["plugin"].is_dir()
    for dist in (PLUGIN_DIST, "sigil-broken"):
        with pytest.raises(importlib.metadata.PackageNotFoundError):
            importlib.metadata.distribution(dist)
    assert "taglines" not in job_type_names()
    assert not any(p.startswith(str(sites["plugin"])) for p in sys.path)
