"""``llm-router``: every command reaches its package's entry point, and exit codes mean what the help says."""

from __future__ import annotations

from pathlib import Path

import pytest

import cli
from core.config import REPO_ROOT


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("llm-router ")
    assert cli.main(["--help"]) == 0
    assert "catalog check" in capsys.readouterr().out
    assert cli.main([]) == 2  # nothing asked: the help, and a usage error


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["worker", "demo", "chaos", "faults", "bench", "report", "grafana", "train",
                                     "eval-routing", "prequential", "dlq", "eval"])
def test_each_command_reaches_its_entry_point(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:  # argparse's --help exits 0 after printing the command's usage
        cli.main([command, "--help"])
    assert done.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_catalog_check_names_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["catalog", "check", str(REPO_ROOT / "config" / "catalog.toml")]) == 0
    assert "ok: 5 providers, 8 models in tiers 1, 2, 3" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('[providers.p]\nwire = "openai"\nbase_url = "http://x"\n[budgets.acme]\nmonthy_usd = 5\n')
    assert cli.main(["catalog", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "budgets.acme.monthy_usd: unknown key (did you mean 'monthly_usd'?)" in err
    assert "[models]: at least one model table is required" in err
    assert cli.main(["catalog"]) == 2
