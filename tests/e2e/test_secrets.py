"""No secret reaches artifacts/, the index or any output, whatever command runs, with -v or --json.

Recognisable OpenAI and Langfuse keys (and a token in the gateway URL's userinfo) are set; every
command runs against real local servers (tests/openai_server.py, the OTLP receiver), plain, with
``-v`` and with ``--json``, including failures. Then every byte of stdout, stderr and every
file under artifacts/ (snapshots, outputs, manifests, the SQLite index and its sidecars) is
searched for each secret.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sigilctl import env
from sigilctl.smoke.receiver import OtlpReceiver
from tests.echo_server import echo_server
from tests.helpers import Result, run_subprocess
from tests.openai_server import FakeOpenAI, Reply, captions, completion, serve

OPENAI_KEY = "sk-test-SECRET123" + "a1" * 12
LANGFUSE_PUBLIC = "pk-lf-SECRET456" + "b2" * 12
LANGFUSE_SECRET = "sk-lf-SECRET789" + "c3" * 12
URL_TOKEN = "gwtoken-SECRET000" + "d4" * 8
SECRETS = (OPENAI_KEY, LANGFUSE_PUBLIC, LANGFUSE_SECRET, URL_TOKEN)
# The distinctive middles: a truncated or re-encoded leak still contains one of these.
MARKERS = ("SECRET123", "SECRET456", "SECRET789", "SECRET000")
Cli = Callable[..., Result]


@pytest.fixture
def servers() -> Iterator[tuple[FakeOpenAI, OtlpReceiver]]:
    with serve() as fake, OtlpReceiver() as receiver:
        yield fake, receiver


@pytest.fixture
def secret_env(
    servers: tuple[FakeOpenAI, OtlpReceiver], monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    fake, receiver = servers
    values = {
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": fake.url,
        "LANGFUSE_HOST": f"http://user:{URL_TOKEN}@127.0.0.1:9",  # shadowed by LANGFUSE_BASE_URL
        "SIGILCTL_OPENAI_TIMEOUT": "2",
        "SIGILCTL_OPENAI_MAX_RETRIES": "0",
        "LANGFUSE_PUBLIC_KEY": LANGFUSE_PUBLIC,
        "LANGFUSE_SECRET_KEY": LANGFUSE_SECRET,
        "LANGFUSE_BASE_URL": receiver.base_url,
        "SIGILCTL_TRACE_FLUSH_TIMEOUT": "1",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def assert_clean(text: str | bytes, where: str) -> None:
    data = text.encode() if isinstance(text, str) else text
    for marker in MARKERS:
        assert marker.encode() not in data, f"a secret ({marker}) leaked into {where}"


COMMANDS: list[tuple[str, ...]] = [
    ("run", "ig-test-001"),
    ("run", "ig-launch-openai"),
    ("show", "ig-test-001"),
    ("show", "ig-launch-openai"),
    ("verify", "--all"),
    ("verify", "--all", "--source"),
    ("reindex",),
    ("runs",),
    ("trace-health",),
    ("diff", "ig-test-001", "ig-launch-openai"),
    ("diff", "ig-launch-openai", "--source"),
    ("replay", "ig-launch-openai"),
    ("replay", "ig-launch-openai", "--provider", "offline"),
    ("export", "ig-launch-openai", "--out", "audit-export.tar.gz"),
]


def test_no_secret_in_any_output_artifact_or_index(
    workspace: Path,
    cli: Cli,
    servers: tuple[FakeOpenAI, OtlpReceiver],
    secret_env: dict[str, str],
) -> None:
    fake, receiver = servers
    fake.default = Reply(body=completion(captions(4)))
    printed: list[tuple[str, Result]] = []
    for args in COMMANDS:
        for extra in ((), ("--json",)):
            for verbose in ((), ("-v",)):
                printed.append((" ".join([*verbose, *args, *extra]), cli(*verbose, *args, *extra)))
    for name in ("brief", "manifest"):
        printed.append((f"schema {name}", cli("schema", name)))
    printed.append(("smoke", cli("-v", "smoke", "--json")))
    assert_clean(gzip.decompress((workspace / "audit-export.tar.gz").read_bytes()), "an export")
    assert receiver.spans, "the offline run was traced through the receiver"
    assert fake.requests, "the openai run reached the server (with its credentials)"

    # Failures print the most detail: the server echoes the key, the run fails, -v shows why.
    echo = {"error": {"message": f"key {OPENAI_KEY} (or {URL_TOKEN}) is not valid"}}
    for verbose, status in (((), 401), (("-v",), 400)):
        fake.default = Reply(status=status, body=echo)
        failed = cli(*verbose, "run", "ig-launch-openai", "--force", "--json")
        assert failed.code == 1, failed.stderr
        printed.append(("failed run", failed))
    receiver.mode = "unauthorized"
    printed.append(("unhealthy", cli("-v", "trace-health", "--json")))
    child = run_subprocess("-v", "run", "ig-test-001", "--force", cwd=workspace, env=secret_env)
    printed.append(("subprocess run", child))

    for command, result in printed:
        assert result.code in (0, 1), (command, result.stderr)
        assert_clean(result.stdout, f"stdout of '{command}'")
        assert_clean(result.stderr, f"stderr of '{command}'")
    files = [p for p in (workspace / "artifacts").rglob("*") if p.is_file()]
    assert any(p.name == "index.sqlite" for p in files)
    for path in files:
        assert_clean(path.read_bytes(), str(path))


def test_credentials_in_the_openai_base_url_are_refused_without_echoing_them(
    workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://user:{URL_TOKEN}@127.0.0.1:9/v1")
    for verbose in ((), ("-v",)):
        result = cli(*verbose, "run", "ig-launch-openai")
        assert result.code == 2
        assert "OPENAI_BASE_URL must not carry credentials" in result.stderr
        assert_clean(result.stdout + result.stderr, "a refused base URL")
    assert not [p for p in (workspace / "artifacts").rglob("*") if p.is_file()]


# --- URL credentials in every endpoint variable, and servers that echo the request ----------

QUERY_TOKEN = "qtoken-SECRET111" + "e5" * 8
BASIC = env.basic_token(LANGFUSE_PUBLIC, LANGFUSE_SECRET)  # what `Authorization: Basic` carries
URL_BASIC = env.basic_token("user", URL_TOKEN)


def assert_nothing_leaked(text: str | bytes, where: str) -> None:
    assert_clean(text, where)
    data = text.encode() if isinstance(text, str) else text
    for token in (BASIC, URL_BASIC, "SECRET111"):
        assert token.encode() not in data, f"a secret ({token[:12]}…) leaked into {where}"


def credentialed(url: str) -> str:
    """``url`` with a user:password@ and a ?token= query value written into it."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://user:{URL_TOKEN}@{rest}?token={QUERY_TOKEN}"


ENDPOINT_URLS = {
    env.OPENAI_BASE_URL: "http://127.0.0.1:9/v1",
    env.LANGFUSE_BASE_URL: "http://127.0.0.1:9",
    env.LANGFUSE_HOST: "http://127.0.0.1:9",
    env.SIGILCTL_INDEX: "postgresql://127.0.0.1:9/sigilctl",
    env.SIGILCTL_BROKER_URL: "redis://127.0.0.1:9/0",
}


def test_every_endpoint_variable_is_listed_here() -> None:
    assert set(ENDPOINT_URLS) == set(env.ENDPOINT_VARIABLES)


@pytest.mark.parametrize("variable", sorted(ENDPOINT_URLS))
def test_url_credentials_in_an_endpoint_variable_appear_nowhere(
    workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", LANGFUSE_PUBLIC)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", LANGFUSE_SECRET)
    monkeypatch.setenv("LANGFUSE_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SIGILCTL_TRACE_FLUSH_TIMEOUT", "0.5")
    monkeypatch.setenv(variable, credentialed(ENDPOINT_URLS[variable]))
    printed = []
    for args in (
        ("-v", "run", "ig-test-001"),
        ("-v", "run", "ig-launch-openai"),
        ("-v", "show", "ig-test-001"),
        ("show", "ig-test-001", "--json"),
        ("-v", "trace-health", "--timeout", "2"),
        ("trace-health", "--json", "--timeout", "2"),
        ("-v", "runs", "--json"),
        ("-v", "reindex"),
        ("-v", "verify", "--all"),
    ):
        printed.append((" ".join(args), cli(*args)))
    child = run_subprocess(
        "-v",
        "show",
        "ig-test-001",
        "--json",
        cwd=workspace,
        env={variable: credentialed(ENDPOINT_URLS[variable]), "LANGFUSE_BASE_URL": "http://h:9"},
    )
    printed.append(("subprocess show", child))
    for command, result in printed:
        assert "Traceback" not in result.stderr or "-v" in command, (command, result.stderr)
        assert_nothing_leaked(result.stdout, f"stdout of '{command}' with {variable}")
        assert_nothing_leaked(result.stderr, f"stderr of '{command}' with {variable}")
    for path in (workspace / "artifacts").rglob("*"):
        if path.is_file():
            assert_nothing_leaked(path.read_bytes(), str(path))


@pytest.mark.parametrize("status", [400, 401, 500])
def test_verbose_tracebacks_against_a_server_that_echoes_the_request(
    workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    """The echo carries `Authorization: Basic base64(public:secret)`, the public key header and
    the Bearer key; -v prints the detail of every failed exchange: none of it may reach the
    screen."""
    with echo_server(status) as langfuse, echo_server(status) as openai:
        values = {
            "LANGFUSE_PUBLIC_KEY": LANGFUSE_PUBLIC,
            "LANGFUSE_SECRET_KEY": LANGFUSE_SECRET,
            "LANGFUSE_BASE_URL": langfuse.base_url,
            "SIGILCTL_TRACE_FLUSH_TIMEOUT": "1",
            "OPENAI_API_KEY": OPENAI_KEY,
            "OPENAI_BASE_URL": f"{openai.base_url}/v1?api-key={QUERY_TOKEN}",
            "SIGILCTL_OPENAI_TIMEOUT": "2",
            "SIGILCTL_OPENAI_MAX_RETRIES": "0",
        }
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        printed = [
            ("-v trace-health", cli("-v", "trace-health", "--timeout", "5")),
            ("-v trace-health --json", cli("-v", "trace-health", "--json", "--timeout", "5")),
            ("-v run offline", cli("-v", "run", "ig-test-001")),
            ("-v run openai", cli("-v", "run", "ig-launch-openai")),
            ("-v run openai --json", cli("-v", "run", "ig-launch-openai", "--json")),
            (
                "subprocess -v trace-health",
                run_subprocess("-v", "trace-health", cwd=workspace, env=values),
            ),
            (
                "subprocess -v run openai",
                run_subprocess("-v", "run", "ig-launch-openai", cwd=workspace, env=values),
            ),
        ]
        echoed = "".join(langfuse.requests + openai.requests)
    assert BASIC in echoed and OPENAI_KEY in echoed, "the servers saw the credentials"
    # -v showed the detail of the failing exchanges (the servers' answers echo the secrets)
    assert any(f"HTTP {status}" in result.stderr for _, result in printed), "-v showed no detail"
    for command, result in printed:
        assert result.code in (0, 1), (command, result.stderr)
        assert_nothing_leaked(result.stdout, f"stdout of '{command}' ({status})")
        assert_nothing_leaked(result.stderr, f"stderr of '{command}' ({status})")
    for path in (workspace / "artifacts").rglob("*"):
        if path.is_file():
            assert_nothing_leaked(path.read_bytes(), str(path))
