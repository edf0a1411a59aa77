"""The scrubber: what it knows is secret, and every log record passes through it."""

from __future__ import annotations

import logging

import pytest

from sigilctl import env, logs

TOKEN = "tok-SECRET222" + "f6" * 8


@pytest.mark.parametrize("variable", env.ENDPOINT_VARIABLES)
def test_credentials_in_every_endpoint_variable_are_secrets(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, f"https://me:{TOKEN}@host:1/x?api-key={TOKEN}2&n=1")
    text = f"GET {TOKEN} {TOKEN}2 Basic {env.basic_token('me', TOKEN)}"
    assert "SECRET222" not in env.scrub(text)
    assert env.basic_token("me", TOKEN) not in env.scrub(text)


def test_a_token_written_as_the_user_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(env.SIGILCTL_BROKER_URL, f"redis://{TOKEN}@127.0.0.1:6379/0")
    assert env.scrub(f"auth {TOKEN} failed") == "auth *** failed"


def test_percent_encoded_passwords_are_known_in_both_forms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(env.SIGILCTL_INDEX, "postgresql://u:p%40ss-SECRET333@db/x")
    assert "SECRET333" not in env.scrub("password p@ss-SECRET333 and p%40ss-SECRET333")


def test_langfuse_basic_token_and_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(env.LANGFUSE_PUBLIC_KEY, "pk-lf-SECRET444")
    monkeypatch.setenv(env.LANGFUSE_SECRET_KEY, "sk-lf-SECRET555")
    basic = env.basic_token("pk-lf-SECRET444", "sk-lf-SECRET555")
    echoed = f"X-Langfuse-Public-Key: pk-lf-SECRET444\nAuthorization: Basic {basic}"
    assert env.scrub(echoed) == "X-Langfuse-Public-Key: ***\nAuthorization: Basic ***"


def test_url_user_information_is_masked_even_when_unknown() -> None:
    text = "connect to postgresql://admin:hunter2@db:5432/x failed; see https://example.org/a@b"
    assert env.scrub(text) == (
        "connect to postgresql://***@db:5432/x failed; see https://example.org/a@b"
    )


def test_flag_endpoints_are_secrets_too() -> None:
    env.register_endpoint(f"postgresql://u:{TOKEN}x@db/x")
    assert env.scrub(f"{TOKEN}x") == "***"


def test_short_values_are_not_replaced_by_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(env.OPENAI_BASE_URL, "https://u:pw@gw/v1")
    assert env.scrub("the pw field") == "the pw field"


def test_every_log_record_is_scrubbed_and_escaped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ours and a library's, message, arguments and traceback alike."""
    monkeypatch.setenv(env.OPENAI_API_KEY, f"sk-{TOKEN}")
    logs.set_verbose(True)
    try:
        library = logging.getLogger("httpx")
        try:
            raise ValueError(f"server said: key sk-{TOKEN} is bad\x1b[2J")
        except ValueError:
            library.warning("request with %s failed", f"sk-{TOKEN}", exc_info=True)
            logs.get_logger("index").debug("echo\x1b]0;t\x07 %s", f"sk-{TOKEN}")
    finally:
        logs.set_verbose(False)
    err = capsys.readouterr().err
    assert "SECRET222" not in err
    assert "\x1b" not in err and "\x07" not in err
    assert "sigilctl: WARNING: [httpx] request with *** failed" in err
    assert "Traceback" in err and "ValueError: server said: key *** is bad\\x1b[2J" in err


def test_library_records_never_reach_an_unscrubbed_handler() -> None:
    """Not Python's last resort, and not the stderr handler langfuse gives httpx at import."""
    import langfuse.logger  # noqa: F401 - configures logging when imported

    logs.get_logger("observability")  # what a module importing langfuse does next
    for name in ("httpx", "opentelemetry", "langfuse", "openai", "py.warnings"):
        logger = logging.getLogger(name)
        assert logger.propagate is False
        assert [type(h.formatter) for h in logger.handlers] == [logs.ScrubbingFormatter]
        assert logger.level == logging.CRITICAL  # shown only with -v
