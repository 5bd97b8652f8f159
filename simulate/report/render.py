"""Render a report's blocks as Markdown and as one self-contained HTML page; figures as PNG and SVG."""
from __future__ import annotations

import html
import io

import matplotlib

PNG_DPI = 110
RC = {"svg.hashsalt": "simulate-report", "svg.fonttype": "path", "figure.dpi": 100, "font.size": 10}
SVG_METADATA = {"Date": None, "Creator": None}
PNG_METADATA = {"Software": None}


def figure_bytes(fig) -> tuple[bytes, bytes]:
    """(PNG, SVG) bytes of ``fig``, free of dates and with fixed SVG ids."""
    with matplotlib.rc_context(RC):
        png, svg = io.BytesIO(), io.BytesIO()
        fig.savefig(png, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
        fig.savefig(svg, format="svg", metadata=SVG_METADATA)
    return png.getvalue(), svg.getvalue()


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(doc) -> str:
    lines = []
    for block in doc:
        if block[0] == "h":
            lines += ["#" * block[1] + " " + block[2], ""]
        elif block[0] == "p":
            lines += [block[1], ""] if block[1] else []
        elif block[0] == "table":
            header, rows = block[1], block[2]
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "|".join("---" for _ in header) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
        elif block[0] == "figure":
            lines += [f"![{block[1]}]({block[1]}.png)", ""]
    return "\n".join(lines)


def _inline(text) -> str:
    """Escape ``text`` for HTML and turn `code` spans into <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:0.88em}th,td{border:1px solid #ccc;padding:3px 7px;vertical-align:top}
th{background:#f2f2f2}td{overflow-wrap:anywhere}figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}
figcaption{font-size:0.9em;color:#555}code{background:#f4f4f4;padding:0 3px}"""


def to_html(doc, svgs: dict, titles: dict) -> str:
    body = []
    for block in doc:
        if block[0] == "h":
            body.append(f"<h{block[1]}>{_inline(block[2])}</h{block[1]}>")
        elif block[0] == "p":
            if block[1]:
                body.append(f"<p>{_inline(block[1])}</p>")
        elif block[0] == "table":
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block[1])
            rows = "".join("<tr>" + "".join(f"<td>{_inline(str(c))}</td>" for c in row) + "</tr>" for row in block[2])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif block[0] == "figure":
            svg = svgs[block[1]].decode("utf-8")
            svg = svg[svg.index("<svg"):]   # drop the XML prolog and DOCTYPE
            body.append(f"<figure>{svg}<figcaption>{html.escape(titles[block[1]])} "
                        f"(also {block[1]}.png, {block[1]}.svg)</figcaption></figure>")
    title = next((b[2] for b in doc if b[0] == "h"), "simulate report")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
