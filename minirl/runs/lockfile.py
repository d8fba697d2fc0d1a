"""An exclusive, non-blocking lock on a file that the operating system drops when its holder dies.

    lock = FileLock("runs/x/.lock")
    if lock.acquire():          # False: another process holds it
        lock.write_pid()        # the holder's pid, for "being trained by pid N" messages
        ...
        lock.release()

Three ways, the first the platform has (chosen once, at import):

| way | platforms | the lock | after a hard kill |
|---|---|---|---|
| `flock` | Linux, macOS, the BSDs (`fcntl`) | `flock(LOCK_EX \\| LOCK_NB)` on the open file | the kernel drops it |
| `msvcrt` | Windows | `msvcrt.locking(LK_NBLCK)` on one byte far past the pid text (a locked byte cannot be read there, the pid must stay readable) | Windows drops it |
| `marker` | anything else | a file `<path>.held` created with `O_EXCL`, holding the pid | a marker whose pid no longer runs on this machine is stale and taken over |

Why not a library: `filelock` truncates the lock file on every attempt, so a second process would
erase the holder's pid, which minirl shows in its messages; `portalocker` pulls in pywin32 on
Windows. The first two ways are what those libraries use underneath. `tests/test_portable.py`
hides `fcntl` (and `os.setpgrp`) from a real `minirl` process to exercise the `marker` way; the
`msvcrt` way is the documented Windows call and is not exercised on Linux.

Opening the lock file can fail for reasons that are not another holder (a read-only file, a
folder in its place): `open_error(path, exc)` says which in one line, with the fix.
"""

from __future__ import annotations

import errno
import os

__all__ = ["FileLock", "LOCKING", "open_error", "pid_running"]

try:
    import fcntl
except ImportError:                                   # Windows, or a platform without it
    fcntl = None
try:
    import msvcrt
except ImportError:
    msvcrt = None

LOCKING = "flock" if fcntl is not None else "msvcrt" if msvcrt is not None else "marker"
_MSVCRT_OFFSET = 1 << 20                              # the locked byte, well past the pid text


def pid_running(pid: int) -> bool:
    """Whether a process with this pid runs on this machine (POSIX; elsewhere: assume it does)."""
    if pid <= 0:
        return False
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:                           # it runs, as another user
        return True
    except OSError:
        return True
    return True


def open_error(path: str, exc: OSError) -> str:
    """One line for a lock file that cannot be opened for a reason other than another holder."""
    if os.path.isdir(path) or exc.errno == errno.EISDIR:
        return (f"{path} is a folder, not minirl's lock file: remove it (rmdir {path}); minirl recreates it "
                "with the pid of the process that works in the folder")
    reason = exc.strerror or type(exc).__name__
    return (f"cannot open the lock file {path} ({reason}): make it writable (chmod u+w {path}) or remove it "
            f"(rm {path}); it only holds the pid of the last process that worked in the folder")


class FileLock:
    """An exclusive lock on `path` for this process (see the module doc). OSError from opening the
    file propagates (`open_error` words it)."""

    def __init__(self, path: str, way: str | None = None):
        self.path = os.fspath(path)
        self.way = way or LOCKING
        self._fd: int | None = None
        self._marker: str | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None or self._marker is not None

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; False if another process does."""
        if self.held:
            return True
        if self.way == "marker":
            return self._acquire_marker()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if self.way == "flock":
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                os.lseek(fd, _MSVCRT_OFFSET, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EDEADLK):
                return False
            raise
        self._fd = fd
        return True

    def _acquire_marker(self) -> bool:
        marker = self.path + ".held"
        if not os.path.exists(self.path):             # the lock file itself: the pid text for messages
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644))
        for _ in range(2):
            try:
                fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if pid_running(_read_pid(marker) or 0):
                    return False
                try:                                  # a stale marker: its holder is gone
                    os.remove(marker)
                except FileNotFoundError:
                    pass
                continue
            os.write(fd, f"{os.getpid()}\n".encode())
            os.close(fd)
            self._marker = marker
            return True
        return False

    def write_pid(self) -> None:
        """Write this process's pid into the lock file (the holder, for messages)."""
        if self._fd is not None:
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.ftruncate(self._fd, 0)
            os.write(self._fd, f"{os.getpid()}\n".encode())
            os.fsync(self._fd)
        else:
            with open(self.path, "w") as f:
                f.write(f"{os.getpid()}\n")

    def release(self) -> None:
        if self._fd is not None:
            try:
                if self.way == "flock":
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                else:
                    os.lseek(self._fd, _MSVCRT_OFFSET, os.SEEK_SET)
                    msvcrt.locking(self._fd, msvcrt.LK_UNLCK, 1)
            finally:
                os.close(self._fd)
                self._fd = None
        if self._marker is not None:
            try:
                os.remove(self._marker)
            except FileNotFoundError:
                pass
            self._marker = None


def _read_pid(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


def holder(path: str) -> int | None:
    """The pid written in a lock file (the current or last holder), if any."""
    return _read_pid(path)
