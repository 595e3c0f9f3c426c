"""The example notebook runs top to bottom against the real CLI server (nbclient, python3 kernel of this venv)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "subsetting.ipynb"


def _kernel_name() -> str:
    """`python3` when it runs this interpreter (jupyter_client maps a bare `python` to sys.executable),
    else a kernelspec installed into this venv for the purpose."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv0 = KernelSpecManager().get_kernel_spec("python3").argv[0]
    except NoSuchKernel:
        argv0 = None
    if argv0 in ("python", "python3") or (argv0 and os.path.realpath(argv0) == os.path.realpath(sys.executable)):
        return "python3"
    name = "cubeserver-venv"
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", name],
                   check=True, capture_output=True)
    return name


def _text(outputs) -> str:
    parts = []
    for out in outputs:
        parts.append(out.get("text", ""))
        parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def test_notebook_runs_without_errors(live_server, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("CUBESERVER_URL", live_server)
    monkeypatch.delenv("MPLBACKEND", raising=False)  # keep ipykernel's inline backend: plots become PNG outputs
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert 'os.environ.get("CUBESERVER_URL", "http://127.0.0.1:8000")' in nb.cells[0].source
    client = NotebookClient(nb, kernel_name=_kernel_name(), timeout=180,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    nbformat.write(nb, tmp_path / "executed.ipynb")  # kept for a look when something is off

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
