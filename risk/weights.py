"""An updated run saved as what the update added, referring to the run it updated.

:func:`risk.update.update` returns the run with new ``weight`` and ``log_likelihood``
variables (and, resampled, a ``source_draw`` that picks its draws from the run's). Saving a
copy of the run to add two columns costs the run's size again; :func:`update_file` keeps only
what differs from the run (those variables and the attributes the update set), and a
reference to the run: its path, relative to the update file and absolute, and the SHA-256
:func:`content_hash` of its data. :func:`join` puts the two back together;
:func:`risk.io.load_run` does so for every command, after checking that the run is there and
unchanged. An update of an update refers to the first update, and loading it joins the chain.

The content hash covers every variable and coordinate of the run as loaded (name, dtype,
shape and bytes), not its attributes or file: it costs no read beyond the loading the run
needs anyway (0.36 s for a run of 263 MB, 200,000 draws of the outlook), and a run converted between NetCDF
and Zarr or saved again compressed is the same run, while any changed value, draw or output
(a rerun under another model version, a run saved again with --keep) is a different one. A
hash of the scenario, seed and draws alone would miss a rerun whose model changed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = ["KIND", "content_hash", "update_file", "is_update_file", "join", "reference"]

#: The ``kind`` attribute of an update file.
KIND = "update"


def content_hash(ds: xr.Dataset) -> str:
    """SHA-256 of every variable and coordinate of ``ds`` (name, dtype, shape, bytes), in name order. [hex]"""
    h = hashlib.sha256()
    for name in sorted(map(str, ds.variables)):
        values = np.asarray(ds.variables[name].values)
        if values.dtype.kind in "OUS":
            values = values.astype(str)  # NetCDF reads strings as objects, Zarr as fixed width
        h.update(f"{name}|{values.dtype.str if values.dtype.kind != 'U' else 'U'}|{values.shape}|".encode())
        h.update(np.ascontiguousarray(values).data if values.dtype.kind != "U" else "\x00".join(values.ravel()).encode())
    return h.hexdigest()


def _same(a: xr.DataArray, b: xr.DataArray) -> bool:
    if a.shape != b.shape or a.dims != b.dims:
        return False
    x, y = a.values, b.values
    return bool(np.array_equal(x, y, equal_nan=x.dtype.kind in "fc" and y.dtype.kind in "fc"))


def update_file(updated: xr.Dataset, run: xr.Dataset, run_path: str | Path, out_path: str | Path) -> xr.Dataset:
    """The Dataset of an update file: what ``updated`` adds to ``run``, and the reference to it.

    Parameters
    ----------
    updated : xarray.Dataset
        The run after :func:`risk.update.update` (``Update.run``).
    run : xarray.Dataset
        The run as :func:`risk.io.load_run` read it from ``run_path``.
    run_path, out_path : str or Path
        Where the run is, and where the update file goes.

    Returns
    -------
    xarray.Dataset
        Dims ``draw``: the variables that are new or changed (``weight``, ``log_likelihood``,
        ``source_draw``); attributes ``kind`` = :data:`KIND`, the attributes the update set
        or changed, ``update_of`` (the run's path relative to the update file's folder),
        ``update_of_absolute`` and ``update_of_sha256`` (:func:`content_hash` of ``run``).
    """
    resampled = bool(updated.attrs.get("resampled")) and "source_draw" in updated
    base = run.isel(draw=updated["source_draw"].values).assign_coords(draw=updated["draw"].values) if resampled else run
    keep = [v for v in updated.data_vars if v not in base or not _same(updated[v], base[v])]
    out = updated[keep].drop_vars([c for c in updated[keep].coords if c != "draw"])
    run_path, out_path = Path(run_path).resolve(), Path(out_path).resolve()
    out.attrs = {k: v for k, v in updated.attrs.items() if run.attrs.get(k) != v}
    out.attrs.update({
        "kind": KIND,
        "title": f"update of the risk run {run_path.name}",
        "risk_version": updated.attrs.get("risk_version", ""),
        "update_of": Path(os.path.relpath(run_path, out_path.parent)).as_posix(),
        "update_of_absolute": str(run_path),
        "update_of_sha256": content_hash(run),
        "update_rows_of_run": int(resampled),
        "update_dropped": ",".join(str(v) for v in run.data_vars if v not in updated),
    })
    return out


def is_update_file(ds: xr.Dataset) -> bool:
    """True for the Dataset of an update file."""
    return ds.attrs.get("kind") == KIND and "update_of" in ds.attrs


def reference(path: str | Path, attrs: dict) -> list[Path]:
    """Where an update file at ``path`` says its run is: beside it (relative path), then the absolute path."""
    path = Path(path)
    return [path.parent / attrs["update_of"], Path(attrs["update_of_absolute"])]


def join(run: xr.Dataset, update: xr.Dataset) -> xr.Dataset:
    """The updated run: ``run`` (its draws picked by ``source_draw`` if resampled) with the update's
    variables and attributes. The inverse of :func:`update_file`."""
    out = run
    if update.attrs.get("update_rows_of_run"):
        out = run.isel(draw=update["source_draw"].values).assign_coords(draw=update["draw"].values)
    dropped = [v for v in update.attrs.get("update_dropped", "").split(",") if v]
    out = out.drop_vars([v for v in dropped if v in out]).copy()
    for v in update.data_vars:
        out[v] = update[v].variable
    reference_attrs = ("kind", "title", "risk_version", "update_of", "update_of_absolute", "update_of_sha256", "update_rows_of_run",
                       "update_dropped")
    out.attrs = {**run.attrs, **{k: v for k, v in update.attrs.items() if k not in reference_attrs}}
    return out
