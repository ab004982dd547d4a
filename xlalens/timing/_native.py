"""The framework's native step, timed by ``xlalens time`` under the same conditions as the replay.

NOTE: [equal conditions] the native step times recorded at capture were taken
while other frontends ran in parallel on the same cores, and the compiled replay
is timed alone later; their difference was contention, not overhead (issue 10).
Here the frontend runs again in its own subprocess (the core still imports no
framework) and serves native rounds (``xlalens.frontends._protocol``): the parent
alternates one round of compiled replay with one round of native steps of the
same length, so both see the same machine and neither runs beside the other.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from xlalens.dumpdir import kill_group, popen
from xlalens.dumpdir._children import forget
from xlalens.frontends import FRONTENDS
from xlalens.frontends._protocol import NATIVE_TAG

START_TIMEOUT_S = 300.0
"""Seconds a frontend may take to import, trace and compile before its first round."""


class NativeUnavailable(Exception):
    """The frontend could not serve native rounds; the message says why."""


class NativeSession:
    """One frontend subprocess serving native rounds (a context manager)."""

    def __init__(
        self, frontend: str, manifest: dict[str, Any], backend: str, baselines: bool = False
    ) -> None:
        """Start the frontend of ``frontend`` with the dump's workload or target.

        ``baselines``: also build the framework's non-XLA steps (torch eager and
        inductor, TF eager and graph, jax op by op); :attr:`baselines` lists those
        it built, :attr:`baselines_failed` those it could not, with the reason.

        Raises:
            NativeUnavailable: unknown frontend, or it failed before its first round.
        """
        fe = FRONTENDS.get(frontend)
        if fe is None:
            raise NativeUnavailable(f"{frontend!r} is not a frontend of this xlalens")
        wl = dict(manifest.get("workload") or {})
        target = wl.get("target") if wl.get("name") == "user" else None
        from xlalens.workloads import Workload

        try:
            workload = Workload().to_json() if target else Workload.from_json(wl).to_json()
        except Exception as exc:
            raise NativeUnavailable(f"the dump's workload cannot be rebuilt: {exc}") from exc
        self._tmp = tempfile.TemporaryDirectory(prefix="xlalens-native-")
        folder = Path(self._tmp.name)
        request = folder / "request.json"
        request.write_text(
            json.dumps(
                {
                    "workload": workload,
                    "backend": backend,
                    "target": target,
                    "native_rounds": True,
                    "baselines": baselines and not target,
                }
            )
        )
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore", **fe.env}
        if backend != "cpu" and fe.compiles_for != ("cpu",):
            env["JAX_PLATFORMS"] = backend
        # NOTE: [no temporary files left] in xlalens/dumpdir/_children.py: the
        # framework's temp files go under our own folder, removed by close().
        (folder / "tmp").mkdir()
        env.update(TMPDIR=str(folder / "tmp"), TEMP=str(folder / "tmp"), TMP=str(folder / "tmp"))
        self._log = open(folder / "native.log", "w+b")
        # NOTE: [prompt interrupts] in xlalens/dumpdir/_children.py
        self.proc = popen(
            [sys.executable, "-m", fe.module, "--request", str(request), "--out", str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
        )
        self._buf = b""
        try:
            ready = self._expect(START_TIMEOUT_S).split(maxsplit=1)
        except NativeUnavailable:
            self.close()
            raise
        info = json.loads(ready[1]) if len(ready) > 1 else {}
        self.baselines: list[str] = list(info.get("baselines") or [])
        self.baselines_failed: dict[str, str] = dict(info.get("failed") or {})

    def _expect(self, timeout: float) -> str:
        """The payload of the next tagged line on the child's stdout."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            while b"\n" in self._buf:
                line, self._buf = self._buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                if text.startswith(NATIVE_TAG + " "):
                    return text[len(NATIVE_TAG) + 1 :]
            left = deadline - time.monotonic()
            if left <= 0:
                raise NativeUnavailable(f"no answer within {timeout:.0f} s")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                self._log.seek(0)
                tail = self._log.read().decode(errors="replace").strip().splitlines()[-3:]
                raise NativeUnavailable(
                    f"the frontend exited (status {self.proc.wait()}): " + " | ".join(tail)
                )
            self._buf += chunk

    def round(self, seconds: float, name: str | None = None) -> list[float]:
        """Run native steps (or the baseline ``name``) for about ``seconds`` (at least 3);
        their seconds each."""
        self.proc.stdin.write(f"run {seconds:.6f}{'' if name is None else ' ' + name}\n".encode())
        self.proc.stdin.flush()
        return [float(t) for t in json.loads(self._expect(max(60.0, 20 * seconds)))]

    def baseline_round(self, seconds: float) -> dict[str, list[float]]:
        """One round of every baseline, each for about ``seconds``."""
        return {name: self.round(seconds, name) for name in self.baselines}

    def close(self) -> None:
        """Stop the child (its whole process group) and remove its folder."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                kill_group(self.proc)
                self.proc.wait()
        forget(self.proc)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self._log.close()
        self._tmp.cleanup()

    def __enter__(self) -> NativeSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
