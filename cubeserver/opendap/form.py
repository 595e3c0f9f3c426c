"""The DAP2 request form (`.html`): variables with their dimensions, hyperslab fields, DDS and DAS shown.

Plain HTML without scripts (the server's Content-Security-Policy allows none inline): the form is
sent back to `.html`, which answers 303 with the constraint expression built from the fields,
e.g. `.ascii?SST[0:1:0][0:1:89][0:1:179]`.
"""

from __future__ import annotations

from html import escape

from .constraint import Hyperslab, parse_dap2
from .model import DapDataset
from .text import das, dap2_name, dds

FORMATS = ("ascii", "dods", "dds")


def _full(var) -> str:
    return "".join(f"[0:1:{n - 1}]" for n in var.shape)


def form_redirect(model: DapDataset, params) -> str | None:
    """`.{format}?{constraint}` for a submitted form (BadRequest for a bad hyperslab), None for a blank form."""
    names = params.getlist("var")
    if not names:
        return None
    fmt = params.get("format", "ascii")
    fmt = fmt if fmt in FORMATS else "ascii"
    clauses = [dap2_name(n) + "".join(params.get(f"slab.{n}", "").split()) for n in names]
    parse_dap2(",".join(clauses), model)  # 400 now, in the form's own terms, rather than after the redirect
    return f".{fmt}?{','.join(clauses)}"


def form_page(model: DapDataset, title: str, url: str) -> str:
    """The HTML page of the form for `model`, served at `url` (the dataset URL)."""
    rows = []
    for var in model.variables.values():
        dims = ", ".join(f"{escape(d)} = {n}" for d, n in zip(var.dims, var.shape)) or "scalar"
        units = escape(str(var.attrs.get("units", "")))
        rows.append(
            f'<tr><td><label><input type="checkbox" name="var" value="{escape(var.name)}"> '
            f"<code>{escape(var.name)}</code></label></td><td>{var.dap2}</td><td>{dims}</td><td>{units}</td>"
            f'<td><input name="slab.{escape(var.name)}" value="{_full(var)}" size="40"></td></tr>')
    slabs = [Hyperslab(v.name, tuple((0, 1, n - 1) for n in v.shape)) for v in model.variables.values()]
    options = "".join(f'<option value="{f}">.{f}</option>' for f in FORMATS)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OPeNDAP: {escape(title)}</title></head>
<body>
<h1>OPeNDAP dataset: {escape(title)}</h1>
<p>Dataset URL (give it to ncdump, CDO, NCO, xarray, R ncdf4, Panoply): <code>{escape(url)}</code></p>
<p>Metadata: <a href="{escape(url)}.dds">DDS</a> · <a href="{escape(url)}.das">DAS</a> ·
<a href="{escape(url)}.dmr">DMR (DAP4)</a></p>
<form method="get" action="{escape(url)}.html">
<table border="1" cellpadding="4">
<tr><th>variable</th><th>type</th><th>dimensions</th><th>units</th><th>hyperslab [start:stride:stop] per dimension</th></tr>
{''.join(rows)}
</table>
<p><label>answer as <select name="format">{options}</select></label> <button type="submit">Get data</button></p>
</form>
<h2>DDS</h2><pre>{escape(dds(model, slabs))}</pre>
<h2>DAS</h2><pre>{escape(das(model))}</pre>
</body></html>
"""
