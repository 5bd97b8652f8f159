"""Render a report's blocks as Markdown and as one self-contained HTML page; figures as PNG and SVG.

The page works on a phone and in print: a viewport meta tag, tables that scroll sideways inside
their own box instead of breaking words, figures that shrink to the width, real text in the SVGs
(``svg.fonttype = "none"``: searchable, editable, read by screen readers) with a ``<title>`` each,
PNGs at 200 dpi, source URLs as links. Nothing on the page loads anything: no script, no font, no
image from elsewhere. Figures carry no dates and their SVG ids are salted with a fixed string, so
the same run gives the same bytes.
"""
from __future__ import annotations

import html
import io
import re

import matplotlib

PNG_DPI = 200
RC = {"svg.hashsalt": "simulate-report", "svg.fonttype": "none", "figure.dpi": 100, "font.size": 10}
SVG_METADATA = {"Date": None, "Creator": None}
PNG_METADATA = {"Software": None}
URL = re.compile(r"https?://[^\s<>\"']+")


def figure_bytes(fig) -> tuple[bytes, bytes]:
    """(PNG, SVG) bytes of ``fig``, free of dates and with fixed SVG ids.

    The layout is computed once, for the PNG, then frozen (the figure's layout engine is set to
    "none"), so the SVG has the same layout and saving again gives the same bytes.
    """
    with matplotlib.rc_context(RC):
        png, svg = io.BytesIO(), io.BytesIO()
        fig.savefig(png, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
        if fig.get_layout_engine() is not None:
            fig.set_layout_engine("none")
        fig.savefig(svg, format="svg", metadata=SVG_METADATA)
    return png.getvalue(), svg.getvalue()


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(doc, titles=None) -> str:
    """The report as Markdown; each figure's alt text is its title (from ``titles``)."""
    titles = titles or {}
    lines = []
    for block in doc:
        if block[0] == "h":
            lines += ["#" * block[1] + " " + block[2], ""]
        elif block[0] == "headline":
            box = block[1]
            lines += [f"> **{box['answer']}**", ">"]
            for key in ("figure", "drivers"):
                if box[key]:
                    lines += [f"> {box[key]}", ">"]
            if box["why"]:
                lines += [f"> Why this number: {box['why']}", ">"]
            if box["checks"]:
                lines += ["> Cross-checks: " + "; ".join(box["checks"]) + "."]
            lines.append("")
        elif block[0] == "p":
            lines += [block[1], ""] if block[1] else []
        elif block[0] == "table":
            header, rows = block[1], block[2]
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "|".join("---" for _ in header) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
        elif block[0] == "figure":
            alt = titles.get(block[1], block[1]).replace("[", "(").replace("]", ")")
            lines += [f"![{alt}]({block[1]}.png)", ""]
    return "\n".join(lines)


def _link(match) -> str:
    url = match.group(0)
    tail = ""
    while url and url[-1] in ".,;:)":      # sentence punctuation after a URL is not part of it
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url, tail = url[:-1], url[-1] + tail
    return f'<a href="{url}">{url}</a>{tail}'


def _inline(text) -> str:
    """Escape ``text`` for HTML, turn `code` spans into <code> and URLs into links."""
    parts = str(text).split("`")
    out = []
    for i, part in enumerate(parts):
        escaped = html.escape(part, quote=False)
        out.append(f"<code>{escaped}</code>" if i % 2 else URL.sub(_link, escaped))
    return "".join(out)


CSS = """*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:1em;color:#222;line-height:1.45;
overflow-wrap:break-word}
h1{font-size:1.7em;line-height:1.2}
.headline{border:2px solid #2b6ca3;border-radius:6px;background:#f3f8fc;padding:0.8em 1.1em;margin:0 0 1.5em}
.headline .answer{font-size:1.2em;font-weight:600;margin:0.2em 0 0.6em}
.headline p{margin:0.45em 0}
.headline .kicker{text-transform:uppercase;letter-spacing:0.05em;font-size:0.78em;color:#2b6ca3;margin:0}
.table-scroll{overflow-x:auto;margin:1em 0;max-width:100%}
table{border-collapse:collapse;font-size:0.88em}
th,td{border:1px solid #ccc;padding:3px 7px;vertical-align:top;text-align:left}
th{background:#f2f2f2}
td a{word-break:break-all}
figure{margin:1.5em 0}
figure svg{max-width:100%;height:auto;display:block}
figcaption{font-size:0.9em;color:#555}
code{background:#f4f4f4;padding:0 3px;overflow-wrap:anywhere}
@media print{body{max-width:none;padding:0}.table-scroll{overflow:visible}figure,table{break-inside:avoid}
a{color:inherit}}"""


def _headline_html(box) -> str:
    parts = ['<section class="headline" id="headline" aria-label="The number to quote">',
             '<p class="kicker">The number to quote</p>',
             f'<p class="answer">{_inline(box["answer"])}</p>']
    for key in ("figure", "drivers"):
        if box[key]:
            parts.append(f"<p>{_inline(box[key])}</p>")
    if box["why"]:
        parts.append(f"<p><strong>Why this number:</strong> {_inline(box['why'])}</p>")
    if box["checks"]:
        parts.append("<p><strong>Cross-checks:</strong> " + "; ".join(_inline(c) for c in box["checks"]) + ".</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _svg_with_title(svg: str, title: str) -> str:
    """The SVG element alone (no XML prolog), labelled for screen readers: role, aria-label and <title>."""
    svg = svg[svg.index("<svg"):]
    end = svg.index(">") + 1
    opening = svg[:end - 1] + f' role="img" aria-label="{html.escape(title)}">'
    return opening + f"<title>{html.escape(title, quote=False)}</title>" + svg[end:]


def to_html(doc, svgs: dict, titles: dict) -> str:
    header, body = [], []
    for block in doc:
        target = header if not body and block[0] == "h" and block[1] == 1 else body
        if block[0] == "h":
            target.append(f"<h{block[1]}>{_inline(block[2])}</h{block[1]}>")
        elif block[0] == "headline":
            body.append(_headline_html(block[1]))
        elif block[0] == "p":
            if block[1]:
                body.append(f"<p>{_inline(block[1])}</p>")
        elif block[0] == "table":
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block[1])
            rows = "".join("<tr>" + "".join(f"<td>{_inline(str(c))}</td>" for c in row) + "</tr>" for row in block[2])
            body.append(f'<div class="table-scroll"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody>'
                        "</table></div>")
        elif block[0] == "figure":
            stem = block[1]
            svg = _svg_with_title(svgs[stem].decode("utf-8"), titles[stem])
            body.append(f'<figure>{svg}<figcaption>{html.escape(titles[stem])} (also <a href="{stem}.png">{stem}.png'
                        f'</a>, <a href="{stem}.svg">{stem}.svg</a>)</figcaption></figure>')
    title = next((b[2] for b in doc if b[0] == "h"), "simulate report")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n<header>"
            + "".join(header) + "</header>\n<main>\n" + "\n".join(body) + "\n</main>\n</body></html>\n")
