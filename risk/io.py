"""Saving and loading runs as NetCDF (HDF5 via h5netcdf) or Zarr.

Nothing the user had is lost: an output path is checked before any work (:func:`check_output`):
a path that exists and is not a run of this tool, a directory, a device, a folder that cannot
be written or a disk without room is refused, never overwritten. Every write goes to a
temporary file or folder beside the target and takes its place in one step (a rename, or
for a Zarr folder that replaces a run an atomic exchange of the two folders), so a run killed
at any moment leaves the old output or the new one, never a mix; the temporaries a killed run
leaves are removed by the next write there. Every run read goes through one gate
(:func:`load_run`) that refuses, with a message, what is not a usable run.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import xarray as xr

from .errors import Problem, ScenarioError

__all__ = ["save_run", "save_update", "update_chain", "load_run", "check_run", "check_output", "keep_outputs", "kept_outputs", "require_outputs",
           "RunFileError", "OutputError", "MissingOutputError", "atomic_path"]

#: Suffixes a run is written with.
RUN_SUFFIXES = (".nc", ".zarr")


class RunFileError(ScenarioError):
    """A run file that cannot be used: names the file and what is wrong."""

    def __init__(self, path, message: str):
        self.source, self.problems = str(path), [Problem("", message)]
        ValueError.__init__(self, f"{path}: {message}")


class OutputError(RunFileError):
    """An output path the tool refuses to write: names it and why, before any work."""


def check_output(path: str | Path, kind: str = "run", size: int = 0) -> Path:
    """Refuse, before any work, an output path whose writing would lose something or fail.

    Parameters
    ----------
    path : str or Path
        Where the output goes.
    kind : {'run', 'file'}
        A run (``.nc`` or ``.zarr``; only a run of this tool may be replaced) or another file
        (a report, a table; a regular file may be replaced).
    size : int
        Bytes the output will take about; refused if the disk has less room. [bytes]

    Raises
    ------
    OutputError
    """
    path = Path(path)
    if not path.name or path.name in (".", ".."):
        raise OutputError(path, "is not a file name; give the file to write, such as runs/base.nc")
    if kind == "run" and path.suffix not in RUN_SUFFIXES:
        raise OutputError(path, f"a run is written as a .nc file or a .zarr folder, not '{path.suffix or path.name}'")
    if path.exists() or path.is_symlink():
        if kind == "run" and path.suffix == ".zarr":
            if not (path.is_dir() and not path.is_symlink() and _is_zarr_run(path)):
                raise OutputError(path, "exists and is not a Zarr run of risk; nothing was changed: choose another path "
                                        "or remove it yourself")
        elif not path.is_file() or path.is_symlink():
            raise OutputError(path, "exists and is not a regular file (a folder, a link or a device); nothing was "
                                    "changed: choose another path")
        elif kind == "run" and not _is_netcdf_run(path):
            raise OutputError(path, "exists and is not a NetCDF run of risk; nothing was changed: choose another path "
                                    "or remove it yourself")
    folder = path.parent
    existing = next((p for p in [folder, *folder.parents] if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise OutputError(path, f"its folder cannot be made: {existing} is a file")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(path, f"cannot write in {existing}: permission denied or a read-only file system")
    if size and existing is not None:
        free = shutil.disk_usage(existing).free
        if free < size:
            raise OutputError(path, f"needs about {size / 1e9:.2f} GB and the disk has {free / 1e9:.2f} GB free; "
                                    "free some space, write elsewhere or ask for fewer draws")
    return path


def _is_zarr_run(path: Path) -> bool:
    import json

    try:
        return "risk_version" in json.loads((path / ".zattrs").read_text())
    except (OSError, ValueError):
        return False


def _is_netcdf_run(path: Path) -> bool:
    try:
        import h5py

        with h5py.File(path, "r") as f:
            return "risk_version" in f.attrs
    except Exception:  # noqa: BLE001 - whatever cannot be opened as one is not a run
        return False


def _temporary_prefix(path: Path) -> str:
    """Name of a temporary beside ``path``: hidden, with the writing process's id."""
    return f".{path.name}.{os.getpid()}."


def _remove_stale(path: Path) -> None:
    """Remove temporaries beside ``path`` left by writers that are no longer running."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.")
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        m = pattern.match(entry.name)
        if not m or int(m.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(m.group(1)), 0)
            continue  # its writer is alive
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


class atomic_path:
    """Context manager giving a temporary path beside ``path``, moved onto it only on success.

    A crash or an exception inside the block leaves no partial file at ``path`` (and removes
    the temporary one); a temporary left by a killed process is removed by the next writer.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(self.path)
        fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(self.path), suffix=".tmp", dir=self.path.parent)
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


def _exchange(a: Path, b: Path) -> bool:
    """Swap paths ``a`` and ``b`` in one step (Linux ``renameat2`` with ``RENAME_EXCHANGE``).

    Returns False where the system cannot (the caller then renames in two steps).
    """
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


#: zlib (NetCDF) and zstd (Zarr) level of ``compress=True``: level 1 gives within 1 % of the
#: size of level 6 at two thirds of its write time (docs/outputs.md).
COMPRESS_LEVEL = 1


def keep_outputs(ds: xr.Dataset, keep=None) -> xr.Dataset:
    """The run with only the outputs ``keep`` names; every parameter, weight and attribute stays.

    Parameters
    ----------
    ds : xarray.Dataset
        A run.
    keep : str or iterable of str, optional
        Output names or groups of :data:`risk.glossary.OUTPUT_GROUPS` (comma-separated or a
        list); None or ``all`` keeps every output.

    Returns
    -------
    xarray.Dataset
        Without the other outputs; a subset records what it kept in the attributes ``keep``
        (the names as given) and ``outputs_kept`` (JSON list of outputs).

    Raises
    ------
    ValueError
        For a name that is neither an output nor a group (listing the allowed ones).
    """
    import json

    from .glossary import OUTPUTS, select_outputs

    if keep is None:
        return ds
    chosen = select_outputs(keep)
    if set(chosen) == set(OUTPUTS):
        return ds
    out = ds.drop_vars([v for v in OUTPUTS if v in ds and v not in chosen])
    out.attrs["keep"] = ",".join([keep] if isinstance(keep, str) else [str(k) for k in keep])
    out.attrs["outputs_kept"] = json.dumps([v for v in chosen if v in ds])
    return out


def _level(compress) -> int:
    """The compression level of ``compress`` (False/None: 0; True: :data:`COMPRESS_LEVEL`; 1-9)."""
    if compress is None or compress is False:
        return 0
    if compress is True:
        return COMPRESS_LEVEL
    if isinstance(compress, int) and 1 <= compress <= 9:
        return compress
    raise ValueError(f"compress must be True, False or a level 1-9 (got {compress!r})")


def save_run(ds: xr.Dataset, path: str | Path, *, keep=None, compress: bool | int = False) -> Path:
    """Write a run to NetCDF (``.nc``) or Zarr (``.zarr``) at ``path``; return the path.

    The path is checked first (:func:`check_output`): only a run of this tool is replaced, and
    the disk must have room for the run. The run is written beside the path and takes its
    place in one step. Every numeric variable carries a checksum (HDF5's Fletcher-32 filter in
    NetCDF, a CRC-32 filter in Zarr), so that :func:`load_run` refuses a run whose bytes were
    damaged instead of using them. A dask-backed run (``simulate(..., lazy=True)``) is computed chunk by
    chunk as it is written, so memory is bounded by the chunks in flight.

    Parameters
    ----------
    ds : xarray.Dataset
        The run.
    path : str or Path
        A ``.nc`` file or a ``.zarr`` folder.
    keep : str or iterable of str, optional
        Store only these outputs (names or groups, :func:`keep_outputs`); parameters,
        weights and attributes are always stored. Default: every output.
    compress : bool or int
        Compress every numeric variable: zlib with byte shuffle in NetCDF, Blosc zstd with
        byte shuffle in Zarr, at :data:`COMPRESS_LEVEL` (True) or the level given (1-9).
        Zarr runs are compressed with a byte shuffle and Blosc lz4 without it
        (:func:`zarr_encoding`; the choice is measured in docs/scale.md).

    Raises
    ------
    OutputError
        For a path that is refused, or a write that fails (the disk filled up, say); the
        old output, if any, is left as it was.
    ValueError
        For an unknown name in ``keep`` or a bad ``compress``.
    """
    level = _level(compress)
    ds = keep_outputs(ds, keep)
    path = check_output(path, "run", size=int(ds.nbytes * 1.05))
    _write(ds, path, level)
    return path


def zarr_encoding(itemsize: int, level: int = 0) -> dict:
    """Filters and compressor of a numeric variable of a Zarr run.

    The values' bytes are shuffled (byte k of every value together, :class:`numcodecs.Shuffle`),
    then checksummed (CRC-32, so that damaged bytes are refused when read), then compressed
    with Blosc: lz4 by default, zstd at ``level`` when compressing. The shuffle comes first
    because after the checksum filter the values are bytes to Blosc, whose own shuffle then
    does nothing: lz4 stores 1,142 bytes a draw of the base scenario without the shuffle
    filter, 964 with it, at the same write speed (docs/scale.md).

    Parameters
    ----------
    itemsize : int
        Bytes of one value (4 for float32). [bytes]
    level : int
        0: Blosc lz4 (level 5, Blosc's default); 1-9: Blosc zstd at that level.

    Returns
    -------
    dict
        ``filters`` and ``compressors`` for ``xarray.Dataset.to_zarr``'s encoding (Zarr format 2).
    """
    import numcodecs

    blosc = numcodecs.Blosc("zstd", level, numcodecs.Blosc.NOSHUFFLE) if level else numcodecs.Blosc("lz4", 5, numcodecs.Blosc.NOSHUFFLE)
    filters = [numcodecs.Shuffle(elementsize=itemsize)] if itemsize > 1 else []
    return {"filters": [*filters, numcodecs.CRC32()], "compressors": [blosc]}


def _write(ds: xr.Dataset, path: Path, level: int = 0) -> None:
    """Write ``ds`` to ``path`` (checked) in one step, every numeric variable with a checksum."""
    numeric = [v for v in ds.data_vars if ds[v].dtype.kind in "fiu"]
    try:
        if path.suffix == ".zarr":
            _save_zarr(ds, path, {v: zarr_encoding(ds[v].dtype.itemsize, level) for v in numeric})
        else:
            extra = {"zlib": True, "complevel": level, "shuffle": True} if level else {}
            with atomic_path(path) as tmp:
                _write_netcdf(ds, tmp, {v: {"fletcher32": True, **extra} for v in numeric})
    except OSError as e:
        raise OutputError(path, f"could not be written ({e.strerror or e}); any output that was there is unchanged") from None


def save_update(updated: xr.Dataset, path: str | Path, run: str | Path, original: xr.Dataset | None = None) -> Path:
    """Write an updated run as an update file at ``path`` that refers to the run at ``run``.

    The file holds only what the update added (``weight``, ``log_likelihood``, and
    ``source_draw`` if resampled), the attributes it set, and the run's path and content
    hash (:mod:`risk.weights`); :func:`load_run` joins it onto the run. It takes about
    1-2 % of the run's size.

    Parameters
    ----------
    updated : xarray.Dataset
        ``risk.update.update(...).run``.
    path : str or Path
        A ``.nc`` file or a ``.zarr`` folder; not the run itself, nor a file the run's own
        update chain refers to.
    run : str or Path
        The saved run (or update file) that was updated.
    original : xarray.Dataset, optional
        That run as :func:`load_run` read it (read again if not given).

    Raises
    ------
    OutputError
        For a path that is refused or cannot be written.
    RunFileError
        If ``run`` cannot be read.
    """
    from .weights import update_file

    path = check_output(path, "run")
    chain = [p.resolve() for p in update_chain(run)]
    if path.resolve() in chain:
        raise OutputError(path, f"is {'the run being updated' if path.resolve() == chain[0] else 'a run the update builds on'}: "
                                "an update is saved as the weights of the run it refers to, so it cannot replace it; "
                                "choose another path")
    original = load_run(run) if original is None else original
    _write(update_file(updated, original, run, path), path)
    return path


def update_chain(path: str | Path) -> list[Path]:
    """``path`` and, if it is an update file, the runs it refers to in turn (read from attributes only)."""
    from .weights import KIND, reference

    chain, path = [], Path(path)
    while path not in chain and len(chain) < 100:
        chain.append(path)
        attrs = _attributes(path)
        if attrs.get("kind") != KIND or "update_of" not in attrs:
            break
        found = [p for p in reference(path, attrs) if p.exists()]
        if not found:
            break
        path = found[0]
    return chain


def _attributes(path: Path) -> dict:
    """The global attributes of a run file, without reading its data ({} if it cannot be read)."""
    import json

    try:
        if path.suffix == ".zarr":
            return json.loads((path / ".zattrs").read_text())
        import h5py

        with h5py.File(path, "r") as f:
            return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    except Exception:  # noqa: BLE001 - what cannot be read refers to nothing
        return {}


def _write_netcdf(ds: xr.Dataset, tmp: Path, encoding: dict) -> None:
    """Write ``ds`` to the NetCDF file ``tmp``, in a forked child when the run is in memory.

    HDF5 does not survive a failed write: after a disk fills up mid-write, closing the file
    crashes the process with a segmentation fault (h5py 3, HDF5 1.14). The child shares the
    run's memory (copy on write, nothing is pickled) and takes the crash alone; this process
    reports it as an :class:`OSError`. A dask-backed run is written here, chunk by chunk (a
    forked child cannot use the parent's thread pool or cluster); the disk check before the
    write (:func:`check_output`) is its guard.
    """
    if any(v.chunks is not None for v in ds.variables.values()) or not hasattr(os, "fork"):
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
        return
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write, report the reason of a failure, and leave without cleanup
        os.close(read)
        code = 0
        try:
            _die_with_parent()
            ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
        except BaseException as e:  # noqa: BLE001 - whatever it is goes to the parent as text
            os.write(write, (getattr(e, "strerror", None) or str(e) or type(e).__name__).encode()[:4000])
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        reason = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        raise OSError(errno.EIO, f"the NetCDF writer crashed (signal {os.WTERMSIG(status)}); "
                                 "the disk may have filled up while it wrote")
    if os.waitstatus_to_exitcode(status) != 0:
        raise OSError(errno.EIO, reason or "the NetCDF writer failed")


def _die_with_parent() -> None:
    """Ask Linux to kill this (child) process when its parent dies (``PR_SET_PDEATHSIG``)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


def _save_zarr(ds: xr.Dataset, path: Path, encoding: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    tmp = Path(tempfile.mkdtemp(prefix=_temporary_prefix(path), dir=path.parent))
    try:
        store = tmp / "store"
        ds.to_zarr(store, mode="w", zarr_format=2, encoding=encoding)  # format 2 specifies fixed-width strings
        if path.exists():
            if not _exchange(store, path):  # no atomic exchange here: the old run steps aside first
                os.replace(path, tmp / "old")
                os.replace(store, path)
        else:
            os.replace(store, path)
    finally:
        _remove_tree(tmp)  # the new store if it failed, the old run if it was replaced


def _drain_zarr() -> None:
    """Wait for zarr's chunk writes still in flight: zarr 3 writes chunks concurrently on its
    own event loop, and those started before one failed run on after the failure is raised."""
    try:
        import asyncio

        from zarr.core.sync import sync
    except ImportError:
        return

    async def rest() -> None:
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        await asyncio.gather(*others, return_exceptions=True)

    try:
        sync(rest(), timeout=30)
    except Exception:  # noqa: BLE001 - cleaning up after a failure: the retries below remain
        pass


def _remove_tree(path: Path, attempts: int = 20) -> None:
    """Remove a folder, after zarr's writes in flight are done, and again while any still add
    files to it."""
    _drain_zarr()
    for _ in range(attempts):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            return
        time.sleep(0.05)


def load_run(path: str | Path, _seen: tuple[Path, ...] = ()) -> xr.Dataset:
    """Load a run saved by :func:`save_run` fully into memory (a ``.nc`` file or a ``.zarr`` folder).

    Every run file goes through this gate: ``ds.risk`` works on what it returns. An update
    file (:func:`save_update`) is joined onto the run it refers to, which must be there and
    unchanged (its content hash, :func:`risk.weights.content_hash`).

    Raises
    ------
    RunFileError
        Naming the file and what is wrong with it: missing, not a NetCDF or Zarr run, not
        readable (truncated, empty, corrupted), not a run of this tool, without draws, or
        with weights that are not finite and non-negative with a positive sum; an update
        whose run is missing or has changed since.
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
    from .weights import is_update_file

    if is_update_file(ds):
        ds = _join_update(path, ds, _seen)
    check_run(ds, path)
    return ds


def _join_update(path: Path, update: xr.Dataset, seen: tuple[Path, ...]) -> xr.Dataset:
    """The run an update file refers to, checked unchanged, with the update joined on."""
    from .weights import content_hash, join, reference

    places = reference(path, update.attrs)
    found = next((p for p in places if p.exists()), None)
    said = update.attrs["update_of"]
    if found is None:
        raise RunFileError(path, f"is an update of the run {said}, which is missing (looked for {places[0]} and {places[1]}); "
                                 "put the run back, or update the run again")
    if found.resolve() in seen or found.resolve() == path.resolve():
        raise RunFileError(path, f"is an update of {found}, which refers back to it: the chain of updates is a loop")
    run = load_run(found, (*seen, path.resolve()))
    now = content_hash(run)
    if now != update.attrs["update_of_sha256"]:
        raise RunFileError(path, f"is an update of the run {found}, which has changed since the update was made (content "
                                 f"hash {update.attrs['update_of_sha256'][:12]} then, {now[:12]} now): its weights no longer "
                                 "fit the run's draws; run risk update on the run again")
    if run.sizes["draw"] != update.sizes["draw"]:
        raise RunFileError(path, f"has {update.sizes['draw']:,} draws and its run {found} {run.sizes['draw']:,}")
    return join(run, update)


#: What every run of this tool carries.
RUN_DIMS = ("draw", "year")
RUN_ATTRS = ("risk_version", "scenario", "scenario_hash", "seed", "base_year")


def check_run(ds: xr.Dataset, path: str | Path = "<run>") -> None:
    """Refuse a Dataset that is not a usable run of this tool (:class:`RunFileError`)."""
    from .glossary import LATER_OUTPUTS, OUTPUTS

    missing_dims = [d for d in RUN_DIMS if d not in ds.dims]
    missing_attrs = [a for a in RUN_ATTRS if a not in ds.attrs]
    if missing_dims or missing_attrs:
        what = ", ".join([*(f"dimension '{d}'" for d in missing_dims), *(f"attribute '{a}'" for a in missing_attrs)])
        raise RunFileError(path, f"is not a run of risk: no {what}; write runs with risk run --out or risk.save_run")
    if ds.sizes["draw"] == 0:
        raise RunFileError(path, "has no draws")
    kept = kept_outputs(ds)
    absent = [name for name in OUTPUTS if name not in ds and name not in LATER_OUTPUTS and (kept is None or name in kept)]
    if absent:
        raise RunFileError(path, f"lacks the output{'s' if len(absent) > 1 else ''} {', '.join(absent[:5])}"
                                 f"{' ...' if len(absent) > 5 else ''}; it was written by another version or edited")
    if "weight" in ds:
        import numpy as np

        w = ds["weight"].values
        if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
            raise RunFileError(path, "has weights that are not all finite and non-negative with a positive sum")


def kept_outputs(ds: xr.Dataset) -> tuple[str, ...] | None:
    """The outputs a run saved with ``keep`` stores (:func:`keep_outputs`), or None for a whole run."""
    import json

    if "outputs_kept" not in ds.attrs:
        return None
    return tuple(json.loads(ds.attrs["outputs_kept"]))


def missing_output_note(ds: xr.Dataset, name: str) -> str | None:
    """Why the run lacks the output ``name`` when it was saved with only some outputs, else None."""
    from .glossary import OUTPUTS

    kept = kept_outputs(ds)
    if kept is None or name not in OUTPUTS or name in ds:
        return None
    return (f"the run has no output '{name}': it was saved with --keep {ds.attrs.get('keep', '')} (outputs "
            f"{', '.join(kept)}); run it again with --keep naming '{name}' (or a group holding it), or without --keep")


class MissingOutputError(RunFileError):
    """A run saved with only some outputs lacks one a command needs: names it and the ``--keep`` used."""


def require_outputs(ds: xr.Dataset, names, path: str | Path = "<run>") -> None:
    """Refuse (:class:`MissingOutputError`) a run saved with ``keep`` that lacks one of ``names``."""
    for name in names:
        note = missing_output_note(ds, name)
        if note is not None:
            raise MissingOutputError(path, note)
