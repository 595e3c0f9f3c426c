"""The example notebook runs top to bottom against the real CLI server (nbclient, python3 kernel of this venv)."""

from __future__ import annotations

from pathlib import Path

from cubeserver import notebook

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "subsetting.ipynb"


def _text(outputs) -> str:
    parts = []
    for out in outputs:
        parts.append(out.get("text", ""))
        parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def test_notebook_runs_without_errors(live_server, tmp_path, monkeypatch, capsys):
    """`make notebook` (python -m cubeserver.notebook) runs every cell against the server in CUBESERVER_URL."""
    import nbformat

    monkeypatch.setenv("CUBESERVER_URL", live_server)
    monkeypatch.delenv("MPLBACKEND", raising=False)  # keep ipykernel's inline backend: plots become PNG outputs
    assert 'os.environ.get("CUBESERVER_URL", "http://127.0.0.1:8000")' in nbformat.read(NOTEBOOK, 4).cells[0].source
    assert notebook.main([str(NOTEBOOK), "--out", str(tmp_path)]) == 0, capsys.readouterr().err
    nb = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)

    code = [c for c in nb.cells if c.cell_type == "code"]
    assert live_server in _text(code[0].outputs), "the notebook talked to the test server"
    out = "\n".join(_text(c.outputs) for c in code)
    assert "coads" in out and "landsat-rgb" in out  # the OWSLib collection table
    assert "hello from Jupyter" in out  # the async job's result
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2, "the time series and the Zarr window were plotted"


def test_notebook_is_committed_without_outputs():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
