"""Publishing the report: running the notebooks headless (:mod:`.execute`, ``python -m helpers.report``), the run
manifest (:mod:`.manifest`), the README's results and timing tables (:mod:`.summary`,
``python -m helpers.report.summary``) and the PDF (:mod:`.pdf`, ``python -m helpers.report.pdf``)."""

from .execute import NOTEBOOKS, REPO, notebook_parameters, run, run_parallel, split_overrides, tidy
