"""Saving and loading runs as NetCDF (HDF5 via h5netcdf) or Zarr. Writes are atomic; every run
read goes through one gate (:func:`load_run`) that refuses, with a message, what is not a
usable run."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import xarray as xr

from .errors import Problem, ScenarioError

__all__ = ["save_run", "load_run", "check_run", "RunFileError", "atomic_path"]


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
    """Load a run saved by :func:`save_run` fully into memory (a ``.nc`` file or a ``.zarr`` folder).

    Every run file goes through this gate: ``ds.risk`` works on what it returns.

    Raises
    ------
    RunFileError
        Naming the file and what is wrong with it: missing, not a NetCDF or Zarr run, not
        readable (truncated, empty, corrupted), not a run of this tool, without draws, or
        with weights that are not finite and non-negative with a positive sum.
    """
    from . import accessor  # noqa: F401  (registers ds.risk)

    path = Path(path)
    if path.suffix == ".zarr":
        if not path.is_dir():
            raise RunFileError(path, "no such run folder (a Zarr run is a folder ending in .zarr)")
        opener, kind = (lambda: xr.open_zarr(path).load()), "Zarr"
    else:
        if not path.exists():
            raise RunFileError(path, "no such run file")
        if not path.is_file():
            raise RunFileError(path, "is not a file; a run is a .nc file or a .zarr folder")
        opener, kind = (lambda: xr.load_dataset(path, engine="h5netcdf")), "NetCDF"
    try:
        ds = opener()
    except Exception as e:  # noqa: BLE001 - every backend failure means the same to the user
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise RunFileError(path, f"cannot be read as a {kind} run ({type(e).__name__}: {reason[:200]}); "
                                 "it may be truncated, empty or not a run") from None
    check_run(ds, path)
    return ds


#: What every run of this tool carries.
RUN_DIMS = ("draw", "year")
RUN_ATTRS = ("risk_version", "scenario", "scenario_hash", "seed", "base_year")


def check_run(ds: xr.Dataset, path: str | Path = "<run>") -> None:
    """Refuse a Dataset that is not a usable run of this tool (:class:`RunFileError`)."""
    from .glossary import OUTPUTS

    missing_dims = [d for d in RUN_DIMS if d not in ds.dims]
    missing_attrs = [a for a in RUN_ATTRS if a not in ds.attrs]
    if missing_dims or missing_attrs:
        what = ", ".join([*(f"dimension '{d}'" for d in missing_dims), *(f"attribute '{a}'" for a in missing_attrs)])
        raise RunFileError(path, f"is not a run of risk: no {what}; write runs with risk run --out or risk.save_run")
    if ds.sizes["draw"] == 0:
        raise RunFileError(path, "has no draws")
    absent = [name for name in OUTPUTS if name not in ds]
    if absent:
        raise RunFileError(path, f"lacks the output{'s' if len(absent) > 1 else ''} {', '.join(absent[:5])}"
                                 f"{' ...' if len(absent) > 5 else ''}; it was written by another version or edited")
    if "weight" in ds:
        import numpy as np

        w = ds["weight"].values
        if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
            raise RunFileError(path, "has weights that are not all finite and non-negative with a positive sum")


class RunFileError(ScenarioError):
    """A run file that cannot be used: names the file and what is wrong."""

    def __init__(self, path, message: str):
        self.source, self.problems = str(path), [Problem("", message)]
        ValueError.__init__(self, f"{path}: {message}")
