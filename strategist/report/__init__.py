"""Post-match analysis reports: the numbers (:func:`build_report`) and their HTML, PDF and JSON forms."""

from strategist.report.build import Report, build_report, write_json


def write_html(report, path):
    """Write the report as one self-contained HTML file (charts inline as SVG); returns the path."""
    from strategist.report.html import write_html as _write

    return _write(report, path)


def write_pdf(report, path):
    """Write the report as a PDF with the same sections, tables and charts as the HTML; returns the path."""
    from strategist.report.pdf import write_pdf as _write

    return _write(report, path)


__all__ = ["Report", "build_report", "write_html", "write_json", "write_pdf"]
