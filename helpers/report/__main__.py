"""``python -m helpers.report``: run the report's notebooks headless (:mod:`helpers.report.execute`)."""

from .execute import main

main()
