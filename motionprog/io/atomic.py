"""Atomic file writes: an output file is either complete or absent, never partial.

The temporary file sits beside its target as ``.NAME.PID.XXXX.SUFFIX`` (hidden, the writer's
process id inside). It is removed on every exit path Python sees: success (renamed onto the
target), an exception, Ctrl-C, and SIGTERM or SIGHUP once the CLI has turned them into exits
(:func:`motionprog.cli.app.main`). A process killed outright (``kill -9``, out of memory)
cannot clean up, so the next atomic write to the same target first removes the temporary
files whose writer process is gone.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def temporary_prefix(target: Path) -> str:
    """The name prefix of every temporary file written for ``target`` (without the pid)."""
    return f".{target.name}."


def writer_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(target: Path) -> list[Path]:
    """Remove the temporary files left beside ``target`` by writers that died; returns them."""
    prefix = temporary_prefix(target)
    removed = []
    for leftover in target.parent.glob(glob.escape(prefix) + "*"):
        pid = leftover.name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not writer_alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
                removed.append(leftover)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    The temporary file keeps the target's suffix, so libraries that choose a format by
    extension (numpy, imageio, trimesh) write the right one. On any exception (KeyboardInterrupt
    and SystemExit included) the temporary file is removed and ``path`` is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target)
    fd, tmp = tempfile.mkstemp(prefix=f"{temporary_prefix(target)}{os.getpid()}.", suffix=target.suffix,
                               dir=target.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))
