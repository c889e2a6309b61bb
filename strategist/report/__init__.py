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


def render(report, fmt: str = "html") -> bytes:
    """The report as bytes in ``fmt`` (``html``, ``pdf`` or ``json``): for a download button."""
    import json
    import tempfile
    from pathlib import Path

    from strategist.errors import ReportError

    if fmt == "html":
        from strategist.report.html import render as _render

        return _render(report).encode("utf-8")
    if fmt == "json":
        return (json.dumps(report.to_dict(), indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    if fmt == "pdf":
        with tempfile.TemporaryDirectory() as tmp:
            return Path(write_pdf(report, Path(tmp) / "report.pdf")).read_bytes()
    raise ReportError(f"report format {fmt!r}: expected 'html', 'pdf' or 'json'")


__all__ = ["Report", "build_report", "render", "write_html", "write_json", "write_pdf"]
