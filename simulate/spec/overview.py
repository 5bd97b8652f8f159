"""What a model declares, for a person: as text (``simulate info``) and as HTML (a notebook's view)."""
from __future__ import annotations

import html
import re


def _figure(ref) -> str:
    numbers = " to ".join(f"{n:g}" for n in ref.numbers())
    return f"{numbers} {ref.unit}" + (f" per {ref.per}" if ref.per else "")


def _describe(parameter) -> str:
    """A parameter's distribution; one per coordinate for a dimensioned one (``virginia: pert(...)``)."""
    if not parameter.cells:
        return parameter.describe()
    return "; ".join(f"{c.name.partition('[')[2].rstrip(']') or c.name}: {c.describe()}" for c in parameter.cells)


def sections(model) -> list[tuple[str, list[tuple[str, str]]]]:
    """``(heading, [(name, text), ...])`` for the outputs, dimensions, scenarios, published figures,
    observations and parameters of ``model``."""
    outputs = []
    for name, out in model.outputs.items():
        how = {"sum": "summed over days", "mean": "mean over days", "once": "one-off total"}[out.aggregate]
        by = f", by {', '.join(out.by)}" if out.by else ""
        outputs.append((name, f"[{out.unit}] {out.long_name} ({how}{by})"))
    dims = [(d.name, ", ".join(f"{label} ({title})" if title else label for label, title in
                               zip(d.labels, d.titles or [""] * len(d.labels))))
            for d in model.dimensions.values()]
    scenarios = [(name, " ".join(x for x in (f"[{s.status}]" if s.status else "", s.label and f"{s.label}:",
                                             s.description) if x)) for name, s in model.scenarios.items()]
    references = [(ref.output, f"{ref.label}: {_figure(ref)} ({ref.when})" + (f"; {ref.scope}" if ref.scope else ""))
                  for ref in model.references]
    observations = [(o.quantity, f"{o.likelihood} likelihood" + (f", {o.month}" if o.month else "")
                     + (f"; {o.source}" if o.source else "")) for o in model.observations]
    if model.reconcile is not None:
        r = model.reconcile
        observations.append((" / ".join(r.paths), f"paths agree within a factor {r.within_factor:g} ({r.likelihood})"))
    parameters = [(p.name, f"[{p.unit}] {_describe(p)}") for p in model.parameters.values()]
    return [(heading, rows) for heading, rows in (
        ("outputs", outputs), ("dimensions", dims), ("scenarios", scenarios), ("published figures", references),
        ("observations", observations), ("parameters", parameters)) if rows]


def model_overview(model) -> str:
    """The text ``simulate info`` prints."""
    lines = [f"{model.title} ({model.name})", f"file: {model.path}" if model.path else "",
             f"period: {model.period.start} to {model.period.end} ({model.period.n_days} days, "
             f"{len(model.period.months)} months)"]
    if model.description:
        lines.append(re.sub(r"\s+", " ", model.description).strip())
    for heading, rows in sections(model):
        lines.append(f"\n{heading}:")
        width = min(30, max(len(name) for name, _ in rows))
        lines += [f"  {name:<{width}}  {text}" for name, text in rows]
    return "\n".join(line for line in lines if line != "")


def model_html(model) -> str:
    """A compact HTML view of ``model`` (Jupyter's ``_repr_html_``): headings, then one table per section."""
    def link(text):
        escaped = html.escape(text)
        return re.sub(r"(https?://[^\s;,)]+)", r'<a href="\1">\1</a>', escaped)

    parts = [f"<div><strong>{html.escape(model.title)}</strong> <code>{html.escape(model.name)}</code><br>"
             f"{model.period.start} to {model.period.end} ({model.period.n_days} days)"
             + (f"<br>{html.escape(model.scenario and 'scenario ' + model.scenario)}" if model.scenario else "")]
    for heading, rows in sections(model):
        parts.append(f"<details{' open' if heading == 'outputs' else ''}><summary>{html.escape(heading)} "
                     f"({len(rows)})</summary><table>")
        parts += [f"<tr><td><code>{html.escape(name)}</code></td><td style='text-align:left'>{link(text)}</td></tr>"
                  for name, text in rows]
        parts.append("</table></details>")
    sources = [(p.name, p.source) for p in model.parameters.values() if p.source]
    if sources:
        parts.append(f"<details><summary>sources ({len(sources)})</summary><table>")
        parts += [f"<tr><td><code>{html.escape(n)}</code></td><td style='text-align:left'>{link(s)}</td></tr>"
                  for n, s in sources]
        parts.append("</table></details>")
    return "".join(parts) + "</div>"
