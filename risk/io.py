"""Saving and loading runs as NetCDF (HDF5 via h5netcdf). Writes are atomic."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import xarray as xr

__all__ = ["save_run", "load_run", "atomic_path"]


class atomic_path:
    """Context manager giving a temporary path beside ``path``, moved onto it only on success.

    A crash or an exception inside the block leaves no partial file at ``path`` (and removes
    the temporary one).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.tmp, 0o666 & ~umask)
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)
        return False


def save_run(ds: xr.Dataset, path: str | Path) -> Path:
    """Write a run to NetCDF at ``path`` atomically; return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")
    return path


def load_run(path: str | Path) -> xr.Dataset:
    """Load a run saved by :func:`save_run` fully into memory."""
    return xr.load_dataset(path, engine="h5netcdf")
