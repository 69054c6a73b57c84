"""The `ams` command group: nothing of keystores.ams is imported at start-up; render writes and refuses by line."""

from __future__ import annotations

import json
import subprocess
import sys

from clirun import keystores


def test_start_up_imports_nothing_of_ams() -> None:
    probe = ("import sys; from keystores.cli import typer_app; group = typer_app.click_app(); "
             "print(sorted(m for m in sys.modules if m.startswith('keystores.ams')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_render_to_stdout_and_file(tmp_path) -> None:
    policies = tmp_path / "pay.spl"
    policies.write_text("setmqspl -m &QM -p PAY.IN -s SHA256 -e AES256 -r 'CN=bob,O=Other,C=GB'\n")
    done = keystores("ams", "render", "--policies", str(policies), "--qmgr", "QM7")
    assert done.code == 0 and done.out == ('setmqspl -m QM7 -p PAY.IN -s SHA256 -e AES256 -r "CN=bob,O=Other,C=GB"'
                                           "\n"), done.err
    out = tmp_path / "qm7.mqsc"
    assert keystores("ams", "render", "--policies", str(policies), "--as", "mqsc", "--qmgr", "QM7", "-o",
                     str(out)).code == 0
    assert out.read_text().startswith("* AMS policies for queue manager QM7")
    data = json.loads(keystores("ams", "render", "--policies", str(policies), "--as", "json").out)
    assert data["policies"][0]["recipients"] == ["CN=bob,O=Other,C=GB"]
    assert keystores("ams", "render", "--policies", str(policies), "--as", "yaml").code == 2


def test_parse_error_is_one_line_with_file_and_line(tmp_path) -> None:
    policies = tmp_path / "bad.spl"
    policies.write_text("# ok\nsetmqspl -m QM1 -p PAY.IN -s SHA256 \\\n  -r 'CN=bob\n")
    done = keystores("ams", "render", "--policies", str(policies))
    assert done.code == 1
    assert done.err.strip().splitlines() == [f"keystores: error: {policies}: line 2: setmqspl: No closing "
                                             "quotation (a quote is not closed)"]
    done = keystores("ams", "check", "--policies", str(tmp_path / "missing.spl"))
    assert done.code == 4 and "no such policy file" in done.err


def test_check_reports_policy_rules_with_lines(tmp_path) -> None:
    policies = tmp_path / "pay.spl"
    policies.write_text("setmqspl -m QM1 -p PAY.IN -s SHA256 -e AES256\nsetmqspl -m QM1 -p PAY.OUT -s MD5\n")
    done = keystores("ams", "check", "--policies", str(policies))
    assert done.code == 5
    assert f"{policies}:1: encryption AES256 without a recipient" in done.out
    assert "WARNING" in done.out and "MD5 is deprecated" in done.out
