"""Shared pytest set-up for the unit tests and for nbval runs of the notebooks."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent
# Real MNIST: $MNIST_ROOT, else CI's shared read-only copy beside the clone, else the repository's data/
# (where a first run with internet downloaded it); never download in tests.
_shared = REPO.parent / "shared" / "data"
os.environ["MNIST_ROOT"] = str(
    Path(os.environ.get("MNIST_ROOT") or (_shared if _shared.is_dir() else REPO / "data")).resolve()
)
os.environ["MNIST_DOWNLOAD"] = "0"
# Notebooks checked by nbval run their quick profile (written under build/quick/, never over the report).
os.environ.setdefault("REPORT_PROFILE", "quick")
