"""The whole report: standalone HTML, graceful degradation, the command, and a headless-Chromium
render."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from drugnet.commands import report as report_command
from drugnet.report import SECTIONS, build_report

CHROMIUM = Path("/usr/bin/chromium")
SECTION_IDS = [key for key, _, _ in SECTIONS]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _attribute_values(text: str, name: str) -> list[str]:
    return re.findall(rf'(?<![\w-]){name}\s*=\s*["\']([^"\']*)["\']', text)


def test_report_is_standalone(report_html):
    assert report_html.startswith("<!DOCTYPE html>")
    for key in SECTION_IDS:
        assert f'id="{key}"' in report_html
    srcs = _attribute_values(report_html, "src")
    hrefs = _attribute_values(report_html, "href") + _attribute_values(report_html, "xlink:href")
    assert srcs and all(v.startswith("data:") for v in srcs), [
        v[:40] for v in srcs if not v.startswith("data:")
    ]
    assert hrefs and all(v.startswith("#") for v in hrefs), [
        v for v in hrefs if not v.startswith("#")
    ]
    assert (
        "<script" not in report_html and "<link" not in report_html and "@import" not in report_html
    )
    assert "section failed" not in report_html
    assert report_html.count("<svg") >= 25  # plots and depictions


def test_report_of_an_empty_run_says_not_run(tmp_path):
    config = {
        "datasets": {"tox": {"task": "classification", "targets": ["A"]}},
        "campaigns": {"c": {"library": "l"}},
    }
    html = build_report(config, tmp_path / "results")
    for key in SECTION_IDS:
        assert f'id="{key}"' in html
    assert html.count("not run") >= 4
    assert "section failed" not in html


def test_report_survives_broken_inputs(results_tree, tmp_path):
    config, results = results_tree
    broken = tmp_path / "results"
    shutil.copytree(results, broken)
    (broken / "tox" / "metrics.json").write_text("{not json")
    (broken / "tox" / "probes" / "gnn" / "probes.csv").write_text("")
    (broken / "screens" / "camp" / "top.csv").write_text("rank,id,smiles,score\n")
    html = build_report(config, broken)
    assert "section failed" not in html
    assert (
        "metrics.json not found" in html
        and "probes.csv not found" in html
        and "top.csv is empty" in html
    )


def test_command_writes_the_report(results_tree, tmp_path):
    config, results = results_tree
    parser = argparse.ArgumentParser()
    report_command.add_arguments(parser)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    output = tmp_path / "out" / "report.html"
    args = parser.parse_args(
        ["--config-json", str(config_file), "--results-dir", str(results), "--output", str(output)]
    )
    assert report_command.main(args) == 0
    text = output.read_text()
    assert 'id="candidates"' in text and not list(output.parent.glob(".tmp-*"))
    # JSON text works too, and the default output is <results>/report.html
    args = parser.parse_args(
        ["--config-json", json.dumps({**config, "results": str(tmp_path / "empty")})]
    )
    assert report_command.main(args) == 0 and (tmp_path / "empty" / "report.html").is_file()


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_report_renders_in_headless_chromium(results_tree, tmp_path):
    if not CHROMIUM.exists():
        # CI (.ci/run sets CI=true and installs chromium) must not pass without rendering
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(
                "CI=true but chromium is not installed (/usr/bin/chromium): .ci/run must install it"
            )
        pytest.skip("chromium not installed (/usr/bin/chromium; Debian package `chromium`)")
    config, results = results_tree
    page = tmp_path / "report.html"
    page.write_text(build_report(config, results))
    url = page.resolve().as_uri()
    dom = _chromium(["--enable-logging=stderr", "--v=0", "--dump-dom", url], tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for key in SECTION_IDS:
        assert f'id="{key}"' in dom.stdout
    assert dom.stdout.count("<svg") >= 25  # inline SVG elements parsed into the DOM
    assert dom.stdout.count('class="card"') >= 12
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    shot = tmp_path / "report.png"
    result = _chromium(
        [f"--screenshot={shot}", "--window-size=1280,4000", url], tmp_path / "profile"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (
        shot.is_file()
        and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        and shot.stat().st_size > 50_000
    )
