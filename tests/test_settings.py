"""Settings: precedence flag > env > file > default, parsing, raw sections, redaction, docs coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshreport.errors import InputError, UsageError
from meshreport.settings import SETTINGS, Settings, parse_duration, parse_end, resolve_window, strip_credentials

CONFIG = """
prometheus:
  url: http://file:9090
  auth:
    token: file-token
  custom_headers:
    X-Scope-OrgID: team-a
  query_scope:
    mesh_id: mesh-1
  timeout: 10s
  concurrency: 4
window: 7d
namespaces: [bookinfo, shop]
health:
  rate:
    - namespace: ".*"
      tolerance:
        - code: "5XX"
          failure: 10
validation:
  ignore: [KIA0101]
"""


@pytest.fixture
def cfg(tmp_path) -> Path:
    p = tmp_path / "meshreport.yaml"
    p.write_text(CONFIG)
    return p


def test_precedence_flag_env_file_default(cfg):
    env = {"MESHREPORT_PROMETHEUS_URL": "http://env:9090", "MESHREPORT_WINDOW": "1h"}
    s = Settings.load(config_file=cfg, env=env, flags={"prometheus.url": "http://flag:9090"})
    assert s["prometheus.url"] == "http://flag:9090" and s.origin("prometheus.url") == "flag"
    assert s["window"] == 3600 and s.origin("window") == "env"
    assert s["prometheus.timeout"] == 10 and s.origin("prometheus.timeout") == "file"
    assert s["prometheus.retries"] == 2 and s.origin("prometheus.retries") == "default"
    assert s["namespaces"] == ["bookinfo", "shop"]
    assert s["prometheus.custom_headers"] == {"X-Scope-OrgID": "team-a"}
    # None flags mean "not given": the env/file value stays
    s2 = Settings.load(config_file=cfg, env=env, flags={"prometheus.url": None})
    assert s2["prometheus.url"] == "http://env:9090"
    # with_flags for options a command parses itself
    assert s2.with_flags({"max_gaps": "3"})["max_gaps"] == 3 and s2["max_gaps"] is None


def test_config_file_from_env_and_sections(cfg):
    s = Settings.load(env={"MESHREPORT_CONFIG": str(cfg)})
    assert s.config_file == str(cfg)
    assert s.section("health")["rate"][0]["tolerance"][0]["failure"] == 10
    assert s.section("validation") == {"ignore": ["KIA0101"]}
    assert s.section("email") == {}
    s.section("validation")["ignore"].append("X")  # a copy: nobody can change what others see
    assert s.section("validation") == {"ignore": ["KIA0101"]}


def test_env_parsing_of_maps_lists_bools_and_durations():
    env = {
        "MESHREPORT_PROMETHEUS_CUSTOM_HEADERS": "X-Scope-OrgID=t1, X-Other: v=2",
        "MESHREPORT_PROMETHEUS_QUERY_SCOPE": "mesh_id=m1,cluster=east",
        "MESHREPORT_NAMESPACES": "a, b,,c",
        "MESHREPORT_ALL_NAMESPACES": "no",
        "MESHREPORT_PROMETHEUS_AUTH_INSECURE_SKIP_VERIFY": "true",
        "MESHREPORT_PROMETHEUS_RETRY_BACKOFF": "250ms",
        "MESHREPORT_END": "2024-01-01T02:00:00Z",
    }
    s = Settings.load(env=env)
    assert s["prometheus.custom_headers"] == {"X-Scope-OrgID": "t1", "X-Other": "v=2"}
    assert s["prometheus.query_scope"] == {"mesh_id": "m1", "cluster": "east"}
    assert s["namespaces"] == ["a", "b", "c"]
    assert s["all_namespaces"] is False and s["prometheus.auth.insecure_skip_verify"] is True
    assert s["prometheus.retry_backoff"] == 0.25
    w = resolve_window(s)
    assert (w.start, w.end) == (1704074400 - 86400, 1704074400)
    # repeated flags arrive as tuples
    s = Settings.load(env={}, flags={"prometheus.custom_headers": ("X-Scope-OrgID: t2",), "prometheus.query_scope": ()})
    assert s["prometheus.custom_headers"] == {"X-Scope-OrgID": "t2"}


def test_bad_values_name_their_origin_and_hide_secrets(tmp_path):
    with pytest.raises(UsageError, match="MESHREPORT_WINDOW: expected a duration"):
        Settings.load(env={"MESHREPORT_WINDOW": "a day"})
    with pytest.raises(UsageError, match="--prometheus-retries: invalid int"):
        Settings.load(env={}, flags={"prometheus.retries": "-1"})
    with pytest.raises(UsageError) as ei:
        Settings.load(env={"MESHREPORT_PROMETHEUS_CUSTOM_HEADERS": "no-separator-secret"})
    assert "no-separator-secret" not in ei.value.message and "***" in ei.value.message
    p = tmp_path / "c.yaml"
    p.write_text("prometheus:\n  auth:\n    tokne: x\n")
    with pytest.raises(UsageError, match="unknown setting 'prometheus.auth.tokne'"):
        Settings.load(config_file=p, env={})
    p.write_text("prometheus: [\n")
    with pytest.raises(InputError, match="not valid YAML"):
        Settings.load(config_file=p, env={})
    with pytest.raises(InputError, match="no such config file"):
        Settings.load(config_file=tmp_path / "missing.yaml", env={})
    p.write_text("health: 3\n")
    with pytest.raises(UsageError, match="section 'health' must be a mapping"):
        Settings.load(config_file=p, env={}).section("health")


def test_redacted_and_secrets(cfg):
    s = Settings.load(
        config_file=cfg,
        env={"MESHREPORT_PROMETHEUS_AUTH_PASSWORD": "pw-123"},
        flags={"prometheus.url": "https://u:pw-123@prom.example:9443/prom?token=x"},
    )
    r = s.redacted()
    assert r["prometheus.url"] == "https://prom.example:9443/prom"
    assert r["prometheus.auth.token"] == "***" and r["prometheus.auth.password"] == "***"
    assert r["prometheus.custom_headers"] == {"X-Scope-OrgID": "***"}
    assert r["prometheus.query_scope"] == {"mesh_id": "mesh-1"}
    assert "file-token" not in str(r) and "pw-123" not in str(r) and "team-a" not in str(r)
    assert set(s.secrets()) == {"file-token", "pw-123", "team-a"}


def test_durations_and_end_parsing():
    assert parse_duration("90s") == 90 and parse_duration("1h30m") == 5400 and parse_duration("7d") == 604800
    assert parse_duration("1w") == 604800 and parse_duration("300") == 300 and parse_duration(2.5) == 2.5
    for bad in ("", "5x", "h", "1h 2m", "-5"):
        with pytest.raises(UsageError):
            parse_duration(bad)
    assert parse_end("1704074400") == 1704074400
    assert parse_end("2024-01-01T02:00:00Z") == 1704074400
    assert parse_end("2024-01-01T03:00:00+01:00") == 1704074400
    with pytest.raises(UsageError, match="no time zone"):
        parse_end("2024-01-01T02:00:00")
    with pytest.raises(UsageError, match="RFC 3339"):
        parse_end("yesterday")
    assert strip_credentials("http://a:b@[::1]:9090/x") == "http://[::1]:9090/x"


def test_every_setting_flag_and_env_is_documented():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()
    for s in SETTINGS:
        assert f"`{s.key}`" in doc, s.key
        assert s.env in doc, s.env
        if s.flag:
            assert s.flag in doc, s.flag
