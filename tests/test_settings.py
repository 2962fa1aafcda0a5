"""Settings resolution: argument → environment → default, validation, and a key that never shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gen_nb.api.errors import ConfigError
from gen_nb.api.settings import (
    DEFAULT_BASE_URL,
    ENVIRONMENT,
    Settings,
    TransferOptions,
    download_dir,
    mask_key,
    origin_of,
    parse_flag,
    resolve_settings,
)


def test_defaults_with_empty_environment() -> None:
    s = resolve_settings(env={})
    assert s == Settings()
    assert s.api_key is None and s.agent_id is None
    assert s.base_url == DEFAULT_BASE_URL and s.engine_prefix == "vidsheet"
    assert s.timeout == 30.0 and s.retries == 4 and s.engine_ids == ()
    assert s.deadline == 120.0 and s.concurrency == 8
    assert TransferOptions.from_env({}) == TransferOptions()
    assert download_dir({}) == Path("downloads")


def test_environment_is_read() -> None:
    env = {
        "GEN_API_KEY": "gen_pat_env", "GEN_AGENT_ID": "42",
        "GEN_API_BASE_URL": "http://127.0.0.1:8080/v1/", "GEN_ENGINE_PREFIX": "autocontentengine",
        "GEN_NB_ENGINE_IDS": "812, 813,,812", "GEN_NB_TIMEOUT": "12.5", "GEN_NB_RETRIES": "2",
        "GEN_NB_DOWNLOAD_DIR": "/tmp/dl", "GEN_NB_DISABLE_PROGRESS": "yes",
        "GEN_NB_DEADLINE": "30", "GEN_NB_CONCURRENCY": "3", "GEN_NB_FSYNC": "off",
        "GEN_NB_MIN_RATE": "1000", "GEN_NB_MAX_UNKNOWN_SIZE": "5",
    }
    s = resolve_settings(env=env)
    assert s.api_key == "gen_pat_env" and s.agent_id == "42"
    assert s.base_url == "http://127.0.0.1:8080/v1"  # trailing slash dropped
    assert s.engine_prefix == "autocontentengine"
    assert s.engine_ids == ("812", "813")
    assert s.timeout == 12.5 and s.retries == 2 and s.deadline == 30 and s.concurrency == 3
    assert download_dir(env) == Path("/tmp/dl")
    options = TransferOptions.from_env(env)
    assert options.progress is False and options.fsync is False
    assert options.min_rate == 1000 and options.max_unknown_size == 5


def test_explicit_arguments_win_over_environment() -> None:
    env = {"GEN_API_KEY": "gen_pat_env", "GEN_AGENT_ID": "1", "GEN_ENGINE_PREFIX": "vidsheet",
           "GEN_NB_ENGINE_IDS": "1", "GEN_NB_TIMEOUT": "5"}
    s = resolve_settings("gen_pat_arg", agent_id=7, engine_prefix="autocontentengine",
                         engine_ids=[812, "813"], timeout=9, env=env)
    assert (s.api_key, s.agent_id, s.engine_prefix) == ("gen_pat_arg", "7", "autocontentengine")
    assert s.engine_ids == ("812", "813") and s.timeout == 9.0


def test_reads_os_environ_only_when_called(monkeypatch) -> None:
    monkeypatch.setenv("GEN_AGENT_ID", "first")
    assert resolve_settings().agent_id == "first"
    monkeypatch.setenv("GEN_AGENT_ID", "second")
    assert resolve_settings().agent_id == "second"


@pytest.mark.parametrize("url", ["api.gen.pro/v1", "ftp://api.gen.pro", "https://", "https:///v1",
                                 "https://api.gen.pro/v1?x=1", "https://api.gen.pro:99999/v1"])
@pytest.mark.parametrize("how", ["arg", "env"])
def test_malformed_base_url_names_arg_and_variable(url, how) -> None:
    kwargs = {"base_url": url} if how == "arg" else {"env": {"GEN_API_BASE_URL": url}}
    with pytest.raises(ConfigError) as info:
        resolve_settings(**kwargs)
    text = str(info.value)
    assert "base_url=" in text if how == "arg" else "GEN_API_BASE_URL" in text


@pytest.mark.parametrize("how", ["arg", "env"])
def test_unknown_engine_prefix(how) -> None:
    kwargs = ({"engine_prefix": "vidsheets"} if how == "arg"
              else {"env": {"GEN_ENGINE_PREFIX": "vidsheets"}})
    with pytest.raises(ConfigError) as info:
        resolve_settings(**kwargs)
    text = str(info.value)
    assert "vidsheet" in text and "autocontentengine" in text and "GEN_ENGINE_PREFIX" in text


@pytest.mark.parametrize("prefix", ["vidsheet", "autocontentengine", "/VidSheet/"])
def test_known_prefixes(prefix) -> None:
    assert resolve_settings(engine_prefix=prefix, env={}).engine_prefix in (
        "vidsheet", "autocontentengine")


@pytest.mark.parametrize(("name", "value"), [
    ("GEN_NB_TIMEOUT", "soon"), ("GEN_NB_TIMEOUT", "0"), ("GEN_NB_TIMEOUT", "nan"),
    ("GEN_NB_RETRIES", "-1"), ("GEN_NB_RETRIES", "2.5"), ("GEN_NB_DEADLINE", "-3"),
    ("GEN_NB_CONCURRENCY", "0"), ("GEN_NB_DISABLE_PROGRESS", "maybe"), ("GEN_NB_FSYNC", "2"),
    ("GEN_NB_MIN_RATE", "fast"), ("GEN_NB_MAX_UNKNOWN_SIZE", "1e400")])
def test_bad_toolkit_values(name, value) -> None:
    """Every setting is parsed once, by one rule, for the client and for transfers alike."""
    with pytest.raises(ConfigError, match=name):
        resolve_settings(env={name: value})
        TransferOptions.from_env({name: value})


@pytest.mark.parametrize(("value", "expected"), [
    ("1", True), ("YES", True), (" on ", True), ("true", True), (True, True),
    ("0", False), ("No", False), ("off", False), ("false", False), (None, False)])
def test_one_rule_for_booleans(value, expected) -> None:
    assert parse_flag(value, "x") is expected


def test_every_variable_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    missing = [v.name for v in ENVIRONMENT if f"`{v.name}`" not in readme]
    assert missing == []


@pytest.mark.parametrize("bad", ["gen_pat_ab cd", "gen_pat_ab\r\nX-Evil: 1", "gen_pat_a\nb",
                                 "gen_pat_äbc", "gen_pat_\x00abc", "gen_pat_a\tb"])
@pytest.mark.parametrize("how", ["arg", "env"])
def test_malformed_key_is_refused_without_quoting_it(bad, how) -> None:
    kwargs = {"api_key": bad} if how == "arg" else {"env": {"GEN_API_KEY": bad}}
    with pytest.raises(ConfigError) as info:
        resolve_settings(**kwargs)
    text = str(info.value)
    assert "gen_pat_" in text and bad.strip() not in text and "ab" not in text.split("gen_pat_")[-1]


@pytest.mark.parametrize(("changes", "field"), [
    ({"retries": -1}, "retries"), ({"chunk_size": 10}, "chunk_size"), ({"timeout": 0}, "timeout"),
    ({"timeout": "x"}, "timeout"), ({"segments": 0}, "segments"), ({"speed": 3}, "speed"),
    ({"min_rate": float("nan")}, "min_rate")])
def test_transfer_options_name_the_bad_field(changes, field) -> None:
    with pytest.raises(ConfigError, match=field):
        TransferOptions.resolve(env={}, **changes)


def test_agent_is_required_only_when_asked() -> None:
    s = resolve_settings("gen_pat_x", env={})
    with pytest.raises(ConfigError, match="GEN_AGENT_ID") as info:
        s.require_agent_id("listing engines")
    assert "listing engines" in str(info.value)
    assert resolve_settings("gen_pat_x", agent_id="5", env={}).require_agent_id() == "5"


def test_origin_and_timeouts() -> None:
    assert origin_of("https://API.gen.pro/v1") == ("https", "api.gen.pro", 443)
    assert origin_of("http://127.0.0.1:8080/x") == ("http", "127.0.0.1", 8080)
    assert origin_of("http://h") == ("http", "h", 80)
    s = resolve_settings(base_url="https://api.gen.pro:443/v1", timeout=5, env={})
    assert s.api_origin == ("https", "api.gen.pro", 443) and s.timeouts == (5.0, 5.0)


@pytest.mark.parametrize(("key", "shown"), [(None, None), ("gen_pat_abc", "gen_pat_***"),
                                             ("a.b.c", "***")])
def test_mask_key(key, shown) -> None:
    assert mask_key(key) == shown


_SECRETS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
                   min_size=10, max_size=48)


@settings(max_examples=80, deadline=None)
@given(secret=_SECRETS, prefix=st.sampled_from(["gen_pat_", "eyJ", "Zq9"]))
def test_key_never_in_repr_or_str(secret, prefix) -> None:
    key = prefix + secret
    s = resolve_settings(key, agent_id="1", env={})
    assert s.api_key == key
    for text in (repr(s), str(s), f"{s}", f"{s!r}"):
        assert key not in text
        assert "api_key=" in text
