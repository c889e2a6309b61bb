"""The report as one self-contained HTML file: inline CSS, charts as inline SVG, nothing fetched to view it."""

from __future__ import annotations

import html
from pathlib import Path

from strategist.report import charts
from strategist.report.document import Chart, Heading, Para, Table, blocks

CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;max-width:60rem;margin:2rem auto;
padding:0 1rem;line-height:1.4;font-size:14px}
h1{font-size:1.5rem;border-bottom:2px solid #1f6fb2;padding-bottom:.3rem}
h2{font-size:1.2rem;margin-top:2rem;color:#1f6fb2;border-bottom:1px solid #ddd}
h3{font-size:1rem;margin:1.2rem 0 .3rem;color:#1f6fb2}
p.item{margin:.15rem 0 .15rem 1.2rem;text-indent:-.8rem}p.item:before{content:"• "}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:12px}
caption{text-align:left;font-weight:600;padding:.2rem 0;caption-side:top}
th,td{border-bottom:1px solid #e3e3e3;padding:.2rem .5rem;vertical-align:top;text-align:left}
th{background:#f4f6f8}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
p.note{background:#fff4e5;border-left:4px solid #edae49;padding:.3rem .6rem}
p.small,p.definition{font-size:12px;color:#555}
figure{margin:.5rem 0 1.2rem}figure svg{max-width:100%;height:auto}
figcaption{font-size:12px;color:#555}
"""


def _table(t: Table) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in t.columns)
    body = []
    for row in t.rows:
        cells = "".join(f"<td{' class=n' if k in t.numeric else ''}>{html.escape(str(v))}</td>"
                        for k, v in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{html.escape(t.caption)}</caption>" if t.caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render(report) -> str:
    """The report as HTML text."""
    parts = []
    for b in blocks(report):
        if isinstance(b, Heading):
            parts.append(f"<h{b.level}>{html.escape(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            parts.append(f"<p class={b.kind}>{html.escape(b.text)}</p>")
        elif isinstance(b, Table):
            parts.append(_table(b))
        elif isinstance(b, Chart):
            fig = b.make()
            if fig is None:
                continue
            cap = f"<figcaption>{html.escape(b.caption)}</figcaption>" if b.caption else ""
            parts.append(f"<figure id=chart-{b.name}>{charts.svg(fig)}{cap}</figure>")
    title = html.escape(f"Match report: {report.meta['player']} against {report.meta['opponent']}")
    return (f"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>{title}</title>"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")


def write_html(report, path) -> Path:
    path = Path(path)
    path.write_text(render(report), encoding="utf-8")
    return path
