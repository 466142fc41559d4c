"""Flag values that are numbers or URLs only in form (nan, inf, 1e400, year 2999, port 99999, an
unclosed IPv6 bracket) are usage errors: exit 2 and one line naming the flag, never a traceback."""

from __future__ import annotations

import pytest

from meshreport.cli import main
from meshreport.errors import EXIT_USAGE

HOSTILE = [
    ("--window", "nan"),
    ("--window", "inf"),
    ("--window", "1e400"),
    ("--window", "-inf"),
    ("--window", "99999999999999999999999y"),
    ("--end", "nan"),
    ("--end", "inf"),
    ("--end", "1e300"),
    ("--end", "2999-01-01T00:00:00Z"),
    ("--end", "-5"),
    ("--end", "9999-12-31T23:59:59+14:00"),
    ("--prometheus", "http://localhost:99999"),
    ("--prometheus", "http://[::1"),
    ("--prometheus", "http://localhost:0"),
    ("--prometheus", "http://localhost:port/"),
    ("--prometheus", "ftp://localhost/"),
]


@pytest.mark.parametrize(("flag", "value"), HOSTILE, ids=[f"{f}={v}" for f, v in HOSTILE])
def test_hostile_flag_is_a_one_line_usage_error(tmp_path, capsys, flag, value):
    args = ["snapshot", "--prometheus", "http://127.0.0.1:1", "-o", str(tmp_path / "x.mrsnap"), flag, value]
    with pytest.raises(SystemExit) as exc:
        main(args)
    _, err = capsys.readouterr()
    assert exc.value.code == EXIT_USAGE, err
    (line,) = err.strip().splitlines()
    assert line.startswith("meshreport: error: ") and flag in line, line
    assert not (tmp_path / "x.mrsnap").exists()


def test_window_reaching_before_1970_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "snapshot",
                "--prometheus",
                "http://127.0.0.1:1",
                "--end",
                "1000",
                "--window",
                "1d",
                "-o",
                str(tmp_path / "x"),
            ]
        )
    _, err = capsys.readouterr()
    assert exc.value.code == EXIT_USAGE and "before 1970" in err


@pytest.mark.parametrize("port", ["99999", "0", "-1", "1" + "0" * 30])
def test_smtp_port_out_of_range_is_a_usage_error(tmp_path, capsys, monkeypatch, port):
    monkeypatch.setenv("MESHREPORT_EMAIL_SMTP_PORT", port)
    with pytest.raises(SystemExit) as exc:
        main(["send", str(tmp_path), "--email-to", "a@b.c"])
    _, err = capsys.readouterr()
    assert exc.value.code == EXIT_USAGE, err
    (line,) = err.strip().splitlines()
    assert "MESHREPORT_EMAIL_SMTP_PORT" in line
