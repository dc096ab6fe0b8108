"""Shared test setup: the app folder on sys.path, so `core` and `ui` import as they do in the app."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
