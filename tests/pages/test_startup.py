"""ui/startup.py: the warm-up imports every core module and the packages core imports inside its functions, so
that no two sessions import a package for the first time at once (torchmetrics breaks for good when they do)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_warm_up_imports_every_core_module_and_the_lazy_packages():
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                     for p in (ROOT / "core").rglob("*.py"))
    script = ("import sys\nfrom ui import startup\nstartup.wait()\n"
              f"wanted = {modules!r} + list(startup.LAZY_IMPORTS) + ['torchmetrics.classification', 'torchmetrics.regression']\n"
              "print([m for m in wanted if m not in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    assert len(modules) > 50 and "core.multi_io" in modules and "core.charts.multi_io" in modules
    assert out.stdout.strip() == "[]", out.stdout
