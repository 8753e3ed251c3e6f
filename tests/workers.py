"""Real Celery worker processes for tests: no eager mode, a real broker between them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def celery_worker(
    env: dict[str, str | None], *, queue: str, concurrency: int = 1, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``celery -A hub worker`` on ``queue`` with ``env`` until the block ends.

    A ``None`` value in ``env`` removes that variable from the worker's environment.
    """
    full_env = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "hub",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            f"--queues={queue}",
            f"--hostname={queue}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=full_env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if log:
            out.close()  # type: ignore[union-attr]
