"""A CSV logger for training runs: one row per update, written and flushed as it arrives.

A run can crash, be interrupted (Ctrl-C) or be killed at any moment; the log must still hold every
row written so far. So the logger

- writes the header once (the column names come from the first row, or are given up front),
- flushes the file after every row (a crash loses at most the row being written),
- can reopen an existing log in append mode (a resumed run continues the same `progress.csv`), in
  which case it keeps the columns already in the file's header.

A later row that lacks a column gets an empty cell; a later row with a column the header does not
have is logged without it, and the logger warns once per unknown name (a long run should never die
because of a logging detail).

    with CSVLogger("runs/x/progress.csv") as log:
        log.write({"step": 512, "return_mean": 21.5})

`read_csv(path)` reads such a file back as a dict of float arrays (empty cells become NaN).
`TensorBoardWriter(folder)` writes the same rows as TensorBoard scalars (`minirl train --tensorboard`),
through tensorboardX (the `tensorboard` extra), one scalar per numeric column with `step` as its step.
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from typing import Iterable, Mapping

import numpy as np

__all__ = ["CSVLogger", "TensorBoardWriter", "read_csv", "format_value"]


def format_value(value) -> str:
    """One cell: integers as integers, floats with full precision (repr), NaN as 'nan', None as ''."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "nan"
        return repr(value)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return format_value(value.item())
    return str(value)


class CSVLogger:
    """Append rows (dicts) to a CSV file, flushing after each row.

    Args:
        path: the CSV file. Its folder is created if needed.
        fieldnames: column names; default: the keys of the first row written (or, when appending to
            an existing non-empty file, the file's header).
        append: keep an existing file and add rows after it (resume). Without it an existing file is
            replaced.
    """

    def __init__(self, path: str, fieldnames: Iterable[str] | None = None, append: bool = False):
        self.path = os.fspath(path)
        folder = os.path.dirname(self.path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self.fieldnames = list(fieldnames) if fieldnames is not None else None
        self._warned: set[str] = set()
        self.rows_written = 0
        header_on_disk = None
        if append and os.path.exists(self.path) and os.path.getsize(self.path) > 0:
            with open(self.path, newline="") as f:
                header_on_disk = next(csv.reader(f), None)
            if header_on_disk:
                if self.fieldnames is not None and self.fieldnames != header_on_disk:
                    raise ValueError(f"CSVLogger: {self.path} has columns {header_on_disk}, "
                                     f"but the logger was given {self.fieldnames}")
                self.fieldnames = header_on_disk
            self._ensure_trailing_newline()
        self._file = open(self.path, "a" if append else "w", newline="")
        self._header_written = header_on_disk is not None
        self._writer = None
        if self.fieldnames is not None:
            self._start(self.fieldnames)

    def _ensure_trailing_newline(self) -> None:
        """A run killed mid-write can leave a half line; start the next row on a fresh line."""
        with open(self.path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            last = f.read(1)
        if last not in (b"\n", b"\r"):
            with open(self.path, "ab") as f:
                f.write(b"\n")

    def _start(self, fieldnames: list[str]) -> None:
        if not fieldnames:
            raise ValueError("CSVLogger: need at least one column")
        self.fieldnames = list(fieldnames)
        self._writer = csv.writer(self._file)
        if not self._header_written:
            self._writer.writerow(self.fieldnames)
            self._header_written = True
            self._file.flush()

    def write(self, row: Mapping) -> None:
        """Write one row and flush it to the operating system."""
        if self._file.closed:
            raise ValueError(f"CSVLogger: {self.path} is closed")
        if self._writer is None:
            self._start(list(row.keys()))
        unknown = [k for k in row if k not in self.fieldnames and k not in self._warned]
        if unknown:
            self._warned.update(unknown)
            warnings.warn(f"CSVLogger: columns {unknown} are not in the header of {self.path} "
                          f"({self.fieldnames}); they are not logged", stacklevel=2)
        self._writer.writerow([format_value(row.get(k)) for k in self.fieldnames])
        self._file.flush()
        self.rows_written += 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def read_csv(path: str) -> dict[str, np.ndarray]:
    """Read a log written by `CSVLogger`: column name -> float64 array (empty or bad cells are NaN).

    A trailing half-written line (a run killed mid-write) is skipped.
    """
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header:
            raise ValueError(f"read_csv: {path} is empty (no header)")
        rows = [r for r in reader if len(r) == len(header)]
    columns: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        values = []
        for r in rows:
            try:
                values.append(float(r[j]) if r[j] != "" else math.nan)
            except ValueError:
                values.append(math.nan)
        columns[name] = np.asarray(values, dtype=np.float64)
    return columns


class TensorBoardWriter:
    """The rows of progress.csv as TensorBoard scalars in `folder` (tags `progress/<column>`).

    Every finite numeric value of a row is one scalar at the row's `step`; NaN cells (no evaluation in
    that row) are skipped, as TensorBoard would draw them as gaps anyway. Needs tensorboardX:
    ImportError (one line, with the install command) if it is missing.
    """

    def __init__(self, folder: str):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            from .about import install_hint
            raise ImportError(f"--tensorboard needs tensorboardX: {install_hint('tensorboard')}") from None
        self.folder = os.fspath(folder)
        self._make = SummaryWriter
        self._writer = None                 # made at the first row: the run folder is claimed by then

    def write(self, row: Mapping) -> None:
        if self._writer is None:
            self._writer = self._make(logdir=self.folder)
        step = int(row["step"])
        for name, value in row.items():
            if name == "step" or isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                continue
            if math.isfinite(float(value)):
                self._writer.add_scalar(f"progress/{name}", float(value), step)
        self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
