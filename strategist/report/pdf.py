"""The report as a PDF (reportlab): the same blocks as the HTML — headings, paragraphs, tables, charts as
images — on A4 pages, in DejaVu Sans (shipped with matplotlib) so that χ², arrows and dashes print."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from strategist.report import charts
from strategist.report.document import Chart, Heading, Para, Table, blocks

_FONTS = {}


def _fonts() -> tuple[str, str]:
    if not _FONTS:
        import matplotlib
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(folder / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(folder / "DejaVuSans-Bold.ttf")))
        _FONTS["regular"], _FONTS["bold"] = "DejaVuSans", "DejaVuSans-Bold"
    return _FONTS["regular"], _FONTS["bold"]


def write_pdf(report, path) -> Path:
    """Write the report as a PDF; returns the path."""
    import io

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer,
                                    Table as RLTable, TableStyle)

    regular, bold = _fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=8.5, leading=11)
    styles = {
        1: ParagraphStyle("h1", parent=base, fontName=bold, fontSize=15, leading=19, spaceAfter=6,
                          textColor=colors.HexColor("#1f6fb2")),
        2: ParagraphStyle("h2", parent=base, fontName=bold, fontSize=12, leading=15, spaceBefore=10, spaceAfter=4,
                          textColor=colors.HexColor("#1f6fb2"), keepWithNext=1),
        "p": ParagraphStyle("p", parent=base, spaceAfter=4),
        "note": ParagraphStyle("note", parent=base, backColor=colors.HexColor("#fff4e5"), borderPadding=3,
                               spaceBefore=2, spaceAfter=6),
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#555555"),
                                spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=base, fontSize=6.8, leading=8.2),
        "head": ParagraphStyle("headcell", parent=base, fontName=bold, fontSize=6.8, leading=8.2),
        "caption": ParagraphStyle("caption", parent=base, fontName=bold, fontSize=8, spaceBefore=4, spaceAfter=2,
                                  keepWithNext=1),
    }
    styles["definition"] = styles["small"]
    width = A4[0] - 30 * mm
    story = []
    for b in blocks(report):
        if isinstance(b, Heading):
            story.append(Paragraph(escape(b.text), styles[b.level]))
        elif isinstance(b, Para):
            story.append(Paragraph(escape(b.text), styles[b.kind]))
        elif isinstance(b, Table):
            data = [[Paragraph(escape(str(c)), styles["head"]) for c in b.columns]]
            data += [[Paragraph(escape(str(v)), styles["cell"]) for v in row] for row in b.rows]
            widths = _widths(b, width)
            t = RLTable(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
            t.setStyle(TableStyle([
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f4f6f8")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2.5), ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
                ("TOPPADDING", (0, 0), (-1, -1), 1.2), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
            ]))
            cap = [Paragraph(escape(b.caption), styles["caption"])] if b.caption else []
            story.extend(cap + [t])
            story.append(Spacer(1, 4))
        elif isinstance(b, Chart):
            fig = b.make()
            if fig is None:
                continue
            w_in, h_in = fig.get_size_inches()
            data = charts.png(fig, dpi=110)
            from reportlab.lib.utils import ImageReader

            reader = ImageReader(io.BytesIO(data))
            pw, ph = reader.getSize()
            w = min(width, w_in * 72 * 1.0)
            h = w * ph / pw
            img = Image(io.BytesIO(data), width=w, height=h)
            parts = [img] + ([Paragraph(escape(b.caption), styles["small"])] if b.caption else [])
            story.append(KeepTogether(parts))
    path = Path(path)
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=f"Match report: {report.meta['player']} against "
                            f"{report.meta['opponent']}", author="strategist", creator="strategist")

    def footer(canvas, doc_):
        canvas.saveState()
        canvas.setFont(regular, 7)
        canvas.setFillColor(colors.HexColor("#777777"))
        canvas.drawString(15 * mm, 8 * mm, f"{report.meta['title']} — {report.meta['player']}")
        canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, f"page {doc_.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return path


def _widths(table: Table, total: float) -> list[float]:
    """Column widths (points) summing to ``total``: each column asks for its longest header word (bold) and
    its longest cell (up to 40 characters); narrow columns keep what they ask, wide ones share the rest."""
    need = []
    for k, c in enumerate(table.columns):
        words = max((len(w) for w in str(c).split()), default=1) * 4.9
        cells = min(max((len(str(r[k])) for r in table.rows), default=1), 40) * 3.8
        need.append(max(words, cells) + 6)
    if sum(need) <= total:
        return [total * n / sum(need) for n in need]
    narrow = [n <= 60 for n in need]
    fixed = sum(n for n, small in zip(need, narrow) if small)
    wide = sum(n for n, small in zip(need, narrow) if not small)
    scale = max(total - fixed, 0.0) / wide if wide else 1.0
    out = [n if small else n * scale for n, small in zip(need, narrow)]
    return [total * w / sum(out) for w in out]
