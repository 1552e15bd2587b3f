"""A real browser: JupyterLab on localhost runs the Studio, driven by Playwright and Debian's chromium.

The test starts JupyterLab (token-protected, on a free port of 127.0.0.1, in a temporary
folder) with a one-cell notebook that builds a :class:`scoringkit.nb.Studio`, opens it in
headless chromium, runs the cell, clicks **Score**, and waits until the emotion arc (a plotly
plot) and an audio player with sound appear. A screenshot is saved to
``out/test-artifacts/studio.png`` (``out/`` is git-ignored), also when the test fails.

Nothing is downloaded: the browser is Debian's ``chromium`` (``apt-get install chromium``;
``.ci/run`` installs it when apt is available) and Playwright is the PyPI package, used
without ``playwright install``. Without either the test is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "out" / "test-artifacts"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
#: Chromium flags for a headless run on a machine with a closed network, as root.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="Playwright for Python is not installed: `pip install playwright` (no `playwright install`: "
           "the test drives Debian's chromium)",
)
if CHROMIUM is None:
    pytest.skip("no chromium on this machine: `apt-get install -y chromium` (Debian's package; "
                ".ci/run installs it where apt is available)", allow_module_level=True)
JUPYTER = Path(sys.executable).with_name("jupyter")
if not JUPYTER.exists():
    pytest.skip(f"JupyterLab is not installed next to {sys.executable}: pip install -e '.[notebook]'",
                allow_module_level=True)

STORY = ("The morning was calm and gentle. Mara walked slowly along the quiet harbour, smiling at the soft light "
         "on the water, the sleepy boats and the gulls resting on the warm stones.\n\n"
         "Then the storm broke. Thunder roared, the black waves smashed the pier, and Mara ran screaming with the "
         "terrified crowd as the flood tore the boats from their ropes.")
CELL = f"""import scoringkit.nb as nb
studio = nb.Studio({STORY!r}, sr=8000)
studio.widget"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_notebook(folder: Path) -> Path:
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": CELL}],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path = folder / "studio.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


@pytest.fixture
def lab(tmp_path):
    """JupyterLab serving ``tmp_path/root``: yields ``(base url, token)``; stopped afterwards."""
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"), IPYTHONDIR=str(tmp_path / "ipython"),
               MPLCONFIGDIR=str(tmp_path / "mpl"), PYTHONPATH=str(ROOT))
    log = open(tmp_path / "jupyter.log", "wb")
    server = subprocess.Popen(
        [str(JUPYTER), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
         "--LabApp.news_url="] + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 45
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}: "
                            f"{(tmp_path / 'jupyter.log').read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("JupyterLab did not answer within 45 s")
            time.sleep(0.3)
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def wait_for_kernel(url: str, token: str, timeout: float = 60) -> None:
    """Wait until the notebook's kernel has started and is idle (asked through the REST API)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/kernels?token={token}", timeout=5) as response:
                kernels = json.load(response)
        except (OSError, ValueError):  # a 500 while the kernel is being started: ask again
            kernels = []
        if kernels and all(k.get("execution_state") == "idle" for k in kernels):
            return
        time.sleep(0.3)
    pytest.fail(f"the kernel did not start within {timeout:g} s")


def test_studio_scores_in_jupyterlab(lab):
    url, token = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "studio.png"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 2000})
        try:
            page.goto(f"{url}/lab/tree/studio.ipynb?token={token}", wait_until="domcontentloaded", timeout=60_000)
            editor = page.locator(".jp-Notebook .jp-Cell .cm-content").first
            editor.wait_for(timeout=60_000)
            wait_for_kernel(url, token)  # the page's indicator reads "idle" before the kernel exists
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=30_000)
            editor.click()
            page.keyboard.press("Shift+Enter")  # run the cell: the studio appears
            score = page.locator("button.jupyter-button", has_text=re.compile(r"^\s*Score\s*$"))
            score.wait_for(timeout=60_000)
            score.click()
            # the arc plot and a player holding sound (ipywidgets.Audio sets a blob: source once it has bytes)
            page.locator(".jp-OutputArea .js-plotly-plot").first.wait_for(timeout=60_000)
            page.locator(".jp-OutputArea audio[src^='blob:']").first.wait_for(state="attached", timeout=60_000)
            page.get_by_text("s of music", exact=False).first.wait_for(timeout=60_000)  # the status line: done
            assert page.locator(".jp-OutputArea audio").count() == 3  # the whole mix and one per cue (2 cues)
            assert "⚠" not in page.locator(".jp-OutputArea").first.inner_text()
        finally:
            page.screenshot(path=str(shot), full_page=True)
            browser.close()
    assert shot.stat().st_size > 10_000
