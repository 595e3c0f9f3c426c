"""Run a notebook top to bottom against a running server: `python -m cubeserver.notebook NOTEBOOK`.

`make notebook` uses it for examples/subsetting.ipynb; the server URL comes from CUBESERVER_URL
(the notebook's first cell reads it). Needs the `notebook` extra (`make serve` installs it): nbclient,
nbformat and ipykernel. The executed copy goes to `executed/` (or `--out`), so the committed notebook
stays without outputs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path


def kernel_name() -> str:
    """`python3` when that kernelspec runs this interpreter, else a kernelspec installed into this venv.

    jupyter_client maps a bare `python`/`python3` argv to sys.executable; a kernelspec of another
    Python (a user's own Jupyter) would lack the server's dependencies, so a `cubeserver-venv` one is
    installed with `--sys-prefix` (inside this venv, nothing outside it changes).
    """
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


def execute(path: Path, workdir: Path, timeout: int = 180):
    """Execute the notebook at `path` with `workdir` as its working directory; returns the executed node.

    Raises nbclient.exceptions.CellExecutionError on the first failing cell.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    # iopub_timeout: how long to wait for a cell's outputs after its reply (nbclient's default, 4 s, silently
    # dropped the first cell's output on a loaded CI machine); it returns as soon as the kernel is idle
    client = NotebookClient(nb, kernel_name=kernel_name(), timeout=timeout, iopub_timeout=timeout,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return nb


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cubeserver.notebook", description=__doc__.splitlines()[0])
    p.add_argument("notebook", type=Path)
    p.add_argument("--out", type=Path, default=Path("executed"), help="folder for the executed copy")
    args = p.parse_args(argv)
    import nbformat
    from nbclient.exceptions import CellExecutionError

    args.out.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("CUBESERVER_URL", "http://127.0.0.1:8000")
    print(f"running {args.notebook} against {url}", flush=True)
    try:
        nb = execute(args.notebook, args.out)
    except CellExecutionError as e:
        print(f"a cell failed (is the server running at {url}? `make serve`):\n{e}", file=sys.stderr)
        return 1
    target = args.out / args.notebook.name
    nbformat.write(nb, target)
    print(f"ok: {sum(c.cell_type == 'code' for c in nb.cells)} code cells ran; executed copy: {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
