"""A real DL Explorer server on a free loopback port, and headless Debian Chromium driven by Playwright.

Chromium comes from Debian's `chromium` package (`make test` installs it when run as root); the tests
skip, naming what to install, when it is missing. Playwright never downloads a browser here.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DLX_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict[str, str] | None = None, script: str | None = None, plain: bool = False) -> subprocess.Popen:
    """The app as `make run` starts it (or `streamlit run script`) on 127.0.0.1:port; returns once
    /_stcore/health answers. `plain=True` starts the app with plain `streamlit run app.py`."""
    start = ["-m", "ui.serve"] if script is None and not plain else ["-m", "streamlit", "run", script or str(ROOT / "app.py")]
    cmd = [sys.executable, *start, "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"]
    # The server's output goes to a file, not a pipe nobody reads: a full pipe (64 KB of log lines) would block
    # the server's next log write and stall it. `proc.log` names the file, for reading after a failure.
    log = tempfile.NamedTemporaryFile("w+", prefix=f"dlx-server-{port}-", suffix=".log", delete=False)
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, text=True)
    proc.log = log.name
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{Path(log.name).read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not answer /_stcore/health within 90 s")


@pytest.fixture(scope="session")
def server():
    port = free_port()
    proc = start_server(port)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}: install Debian's 'chromium' package "
                    "(apt-get install chromium), or set DLX_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    # Tall enough that a whole page fits: Streamlit scrolls inside its own container, not the window.
    context = browser.new_context(viewport={"width": 1440, "height": 2600})
    pg = context.new_page()
    yield pg
    context.close()


def wait_idle(pg, timeout: float = 60_000) -> None:
    """Wait until the app has rendered and its script is not running."""
    pg.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)
    pg.wait_for_timeout(300)
    pg.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)
