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
    """Write a run to NetCDF (``.nc``) or Zarr (``.zarr``) at ``path`` atomically; return the path.

    A dask-backed run (``simulate(..., lazy=True)``) is computed chunk by chunk as it is
    written, so memory is bounded by the chunks in flight.
    """
    path = Path(path)
    if path.suffix == ".zarr":
        import shutil
        import tempfile

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            ds.to_zarr(tmp / "store", mode="w", zarr_format=2)  # format 2 specifies fixed-width strings
            if path.exists():
                shutil.rmtree(path)
            os.replace(tmp / "store", path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return path
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")
    return path


def load_run(path: str | Path) -> xr.Dataset:
    """Load a run saved by :func:`save_run` fully into memory (``.nc`` or ``.zarr``); ``ds.risk`` works on it."""
    from . import accessor  # noqa: F401  (registers ds.risk)

    if Path(path).suffix == ".zarr":
        return xr.open_zarr(path).load()
    return xr.load_dataset(path, engine="h5netcdf")
