"""The engine is pure numpy: importing it must not import Django.

Checked in a fresh interpreter, because the test session itself may already
have Django loaded by other tests or conftest files.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import liqengine

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_engine_does_not_import_django():
    code = (
        "import sys, liqengine, liqengine.bands, liqengine.squeeze, liqengine.window; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"engine import pulled in: {proc.stdout.strip()} {proc.stderr.strip()}"


def test_engine_sources_do_not_mention_django_imports():
    for path in Path(liqengine.__file__).parent.glob("*.py"):
        text = path.read_text()
        assert "import django" not in text and "from django" not in text, path.name
