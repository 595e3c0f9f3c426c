"""Build the base and the cubeserver image with buildah, and run commands of it on the host network.

No Docker daemon and no registry of images are needed: the base is made from Debian packages
(deploy/debian-base.sh: debootstrap), the image with `buildah bud --isolation chroot`, and commands
run with `buildah run --isolation chroot --network host` (podman's own `run` is refused in sandboxes
that do not let a container set resource limits). The base is cached by the hash of its script: in
the containers storage, and as an image archive (podman save) in CACHE (CUBESERVER_CI_CACHE, else
$XDG_CACHE_HOME/cubeserver-ci, else /var/cache/cubeserver-ci) for when the storage was cleaned.
The image build reuses buildah's layer cache: only the layers after a changed file are rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

BUILDAH = shutil.which("buildah")
PODMAN = shutil.which("podman")
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
IMAGE = "localhost/cubeserver:test"
BUILD_LOG_TAIL = 4000


def cache_dir() -> Path:
    env = os.environ.get("CUBESERVER_CI_CACHE")
    if env:
        return Path(env)
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "cubeserver-ci"
    return Path("/var/cache/cubeserver-ci")


def _run(*args: str, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    res = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, **kw)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} ... failed ({res.returncode}):\n{(res.stdout + res.stderr)[-BUILD_LOG_TAIL:]}")
    return res


def image_exists(tag: str) -> bool:
    return subprocess.run([BUILDAH, "inspect", "--type", "image", tag], capture_output=True).returncode == 0


def base_image() -> str:
    """The debootstrapped bookworm base (deploy/debian-base.sh), built once per version of that script."""
    script = ROOT / "deploy" / "debian-base.sh"
    key = hashlib.sha256(script.read_bytes()).hexdigest()[:12]
    tag = f"localhost/cubeserver-base:{key}"
    if image_exists(tag):
        return tag
    archive = cache_dir() / f"cubeserver-base-{key}.tar"
    if archive.exists() and PODMAN:
        subprocess.run([PODMAN, "load", "-q", "-i", str(archive)], capture_output=True, timeout=300)
        if image_exists(tag):
            return tag
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed and no base image is cached (.ci/run installs it)")
    _run("sh", str(script), tag, timeout=1200)
    if PODMAN:  # a docker-archive keeps the tag
        archive.parent.mkdir(parents=True, exist_ok=True)
        partial = archive.with_suffix(".partial")
        _run(PODMAN, "save", "-q", "-o", str(partial), tag, timeout=300)
        partial.rename(archive)
    return tag


def build_image(base: str, tag: str = IMAGE) -> str:
    """`buildah bud` of the project's Containerfile on `base`; the host's CA bundle is mounted for the
    RUN steps and named by PIP_CERT (registries behind a TLS-inspecting proxy), never copied in."""
    cmd = [BUILDAH, "bud", "--isolation", "chroot", "--format", "docker", "--layers", "--pull=never",
           "--build-arg", f"BASE={base}", "-t", tag, "-f", str(ROOT / "Containerfile")]
    if HOST_CA.exists():
        cmd += ["-v", f"{HOST_CA}:/host-ca.crt:ro", "--build-arg", "PIP_CERT=/host-ca.crt"]
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST"):
        if os.environ.get(name) and "file:" not in os.environ[name]:
            cmd += ["--build-arg", f"{name}={os.environ[name]}"]
    _run(*cmd, str(ROOT), timeout=1800)
    return tag


def image_config(tag: str) -> dict:
    return json.loads(_run(BUILDAH, "inspect", "--type", "image", tag).stdout)["Docker"]["config"]


def image_size(tag: str) -> str:
    """The image's size as buildah reports it (e.g. '955 MB', uncompressed)."""
    return _run(BUILDAH, "images", "--format", "{{.Size}}", tag).stdout.strip().splitlines()[0]


@contextlib.contextmanager
def mounted(tag: str):
    """The file tree of a fresh working container of `tag`, mounted read-write on the host (look, do not touch)."""
    name = _run(BUILDAH, "from", "--pull=never", tag).stdout.strip()
    try:
        yield Path(_run(BUILDAH, "mount", name).stdout.strip())
    finally:
        subprocess.run([BUILDAH, "umount", name], capture_output=True)
        subprocess.run([BUILDAH, "rm", name], capture_output=True)


@contextlib.contextmanager
def running(tag: str, cmd: list[str], log: Path, env: dict | None = None, volumes: list[str] = ()):
    """Run `cmd` in a fresh working container of `tag` on the host network; yields the Popen (its own
    session, so every process of it gets the stop signal) and removes the container afterwards."""
    name = _run(BUILDAH, "from", "--pull=never", tag).stdout.strip()
    args = [BUILDAH, "run", "--isolation", "chroot", "--network", "host"]
    for k, v in (env or {}).items():
        args += ["--env", f"{k}={v}"]
    for vol in volumes:
        args += ["-v", vol]
    out = open(log, "w")
    proc = subprocess.Popen([*args, name, "--", *cmd], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(wait)
                if not session_pids(proc.pid):
                    break
            except subprocess.TimeoutExpired:
                pass
            deadline = time.monotonic() + wait
            while session_pids(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
        out.close()
        subprocess.run([BUILDAH, "rm", name], capture_output=True)


def files_of_size(root: Path, size: int) -> list[Path]:
    """The regular files of a tree (symlinks not followed) of exactly `size` bytes."""
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            try:
                st = path.lstat()
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_size == size:
                found.append(path)
    return found


def session_pids(sid: int) -> list[int]:
    """The live processes of session `sid` (a server's master and workers)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise LookupError(pid)


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
