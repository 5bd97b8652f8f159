"""Reports: compute what a model's report shows, lay it out as sections, render Markdown and one
self-contained HTML page, and write the folder; plus the console tables of the CLI.

``compute`` -> ``figures`` -> ``sections`` -> ``render`` -> ``write``; ``references`` and
``yearly`` are the sections for published figures and for periods longer than two years.
``write_report`` is imported on first use, so the console tables do not load matplotlib.
"""


def __getattr__(name):
    if name == "write_report":
        from .write import write_report

        return write_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
