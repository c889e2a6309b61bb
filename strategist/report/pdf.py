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
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, SimpleDocTemplate

    regular, _ = _fonts()
    styles = _styles()
    width = A4[0] - 30 * mm
    story = []
    headings = []            # headings waiting for the chart they introduce (kept on one page with it)
    for b in blocks(report):
        if isinstance(b, Table):      # its caption, header and a few rows start on one page, after its headings
            story.append(CondPageBreak(90 + 20 * len(headings)))
        if not isinstance(b, (Heading, Chart)) and headings:
            story.extend(headings)
            headings = []
        if isinstance(b, Heading):
            headings.append(Paragraph(escape(b.text), styles[b.level]))
        elif isinstance(b, Para):
            bullet = {"bulletText": "•"} if b.kind == "item" else {}
            story.append(Paragraph(escape(b.text), styles[b.kind], **bullet))
        elif isinstance(b, Table):
            story.extend(_table(b, styles, width))
        elif isinstance(b, Chart):
            image = _chart(b, width)
            if image is not None:
                caption = [Paragraph(escape(b.caption), styles["small"])] if b.caption else []
                story.append(KeepTogether(headings + [image] + caption))
                headings = []
    story.extend(headings)
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


def _styles() -> dict:
    """The paragraph styles: headings by level, paragraphs by kind, table cells and captions."""
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle

    regular, bold = _fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=8.5, leading=11)
    styles = {
        1: ParagraphStyle("h1", parent=base, fontName=bold, fontSize=15, leading=19, spaceAfter=6,
                          textColor=colors.HexColor("#1f6fb2")),
        2: ParagraphStyle("h2", parent=base, fontName=bold, fontSize=12, leading=15, spaceBefore=10, spaceAfter=4,
                          textColor=colors.HexColor("#1f6fb2"), keepWithNext=1),
        3: ParagraphStyle("h3", parent=base, fontName=bold, fontSize=10, leading=13, spaceBefore=7, spaceAfter=3,
                          textColor=colors.HexColor("#1f6fb2"), keepWithNext=1),
        "p": ParagraphStyle("p", parent=base, spaceAfter=4),
        "item": ParagraphStyle("item", parent=base, leftIndent=10, bulletIndent=2, bulletFontName=regular,
                               spaceAfter=2),
        "note": ParagraphStyle("note", parent=base, backColor=colors.HexColor("#fff4e5"), borderPadding=3,
                               spaceBefore=2, spaceAfter=6),
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#555555"),
                                spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=base, fontSize=6.8, leading=8.2),
        "head": ParagraphStyle("headcell", parent=base, fontName=bold, fontSize=6.8, leading=8.2),
        "caption": ParagraphStyle("caption", parent=base, fontName=bold, fontSize=8, spaceBefore=4, spaceAfter=2),
    }
    styles["definition"] = styles["small"]
    return styles


def _table(b: Table, styles: dict, width: float) -> list:
    """A table's flowables: its caption, the table (header repeated on each page), a little space."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Spacer, Table as RLTable, TableStyle

    data = [[Paragraph(escape(str(c)), styles["head"]) for c in b.columns]]
    data += [[Paragraph(escape(str(v)), styles["cell"]) for v in row] for row in b.rows]
    t = RLTable(data, colWidths=_widths(b, width), repeatRows=1, hAlign="LEFT")
    t.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f4f6f8")),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2.5), ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
        ("TOPPADDING", (0, 0), (-1, -1), 1.2), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
    ]))
    cap = [Paragraph(escape(b.caption), styles["caption"])] if b.caption else []
    return cap + [t, Spacer(1, 4)]


def _chart(b: Chart, width: float):
    """A chart as an image ``width`` wide at most (None when it has nothing to draw)."""
    import io

    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    fig = b.make()
    if fig is None:
        return None
    w_in, _ = fig.get_size_inches()
    data = charts.png(fig, dpi=110)
    pw, ph = ImageReader(io.BytesIO(data)).getSize()
    w = min(width, w_in * 72 * 1.0)
    return Image(io.BytesIO(data), width=w, height=w * ph / pw)


def _widths(table: Table, total: float) -> list[float]:
    """Column widths (points) summing to ``total``: each column gets at least its longest word (header words
    bold; a numeric column's whole cells), so that no word is split while there is room; what is left goes to
    the columns whose cells are longer (up to 40 characters), in proportion to what they lack."""
    least, want = [], []
    for k, c in enumerate(table.columns):
        cells = [str(r[k]) for r in table.rows]
        pieces = cells if k in table.numeric else [w for v in cells for w in v.split()]   # numbers stay whole
        word = max([len(w) * 4.9 for w in str(c).split()] + [len(w) * 3.8 for w in pieces] + [4.9])
        least.append(word + 6)
        want.append(max(least[-1], min(max((len(v) for v in cells), default=1), 40) * 3.8 + 6))
    if sum(least) >= total:
        return [total * w / sum(least) for w in least]
    if sum(want) <= total:
        return [total * w / sum(want) for w in want]
    spare, lack = total - sum(least), [w - m for w, m in zip(want, least)]
    return [m + spare * x / sum(lack) for m, x in zip(least, lack)]
