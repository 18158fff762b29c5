"""Shared pytest set-up for the unit tests and for nbval runs of the notebooks."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent
# Real MNIST from the shared read-only copy unless told otherwise; never download in tests.
os.environ["MNIST_ROOT"] = str(Path(os.environ.get("MNIST_ROOT", REPO.parent / "shared" / "data")).resolve())
os.environ["MNIST_DOWNLOAD"] = "0"
# Notebooks checked by nbval run their quick profile (written under build/quick/, never over the report).
os.environ.setdefault("REPORT_PROFILE", "quick")
