"""The codec of Zarr runs: recorded in the store, values read back bit for bit, the shuffle effective."""

from __future__ import annotations

import json

import numpy as np
import pytest

import risk
from risk.io import zarr_encoding


@pytest.fixture(scope="module")
def small(base_scenario):
    return risk.simulate(base_scenario, draws=20_000, seed=3, sampling="mc")


def _zarray(path, name) -> dict:
    return json.loads((path / name / ".zarray").read_text())


def _size(path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


@pytest.mark.parametrize("compress,cname,clevel", [(False, "lz4", 5), (True, "zstd", 1), (4, "zstd", 4)])
def test_the_codec_is_recorded_and_the_values_read_back(small, tmp_path, compress, cname, clevel):
    path = risk.save_run(small, tmp_path / "r.zarr", compress=compress)
    for name, itemsize in (("nvda_gross_margin", 4), ("pricing.elasticity", 4)):
        meta = _zarray(path, name)
        assert meta["filters"] == [{"id": "shuffle", "elementsize": itemsize}, {"id": "crc32"}]
        assert meta["compressor"]["id"] == "blosc" and meta["compressor"]["cname"] == cname
        assert meta["compressor"]["clevel"] == clevel and meta["compressor"]["shuffle"] == 0  # the filter shuffles
    back = risk.load_run(path)
    for name in small.data_vars:
        assert np.array_equal(back[name].values, small[name].values), name
        assert back[name].dtype == small[name].dtype


def test_a_float64_run_shuffles_eight_byte_values(base_scenario, tmp_path):
    run = risk.simulate(base_scenario, draws=3_000, seed=3, sampling="mc", dtype="float64")
    path = risk.save_run(run, tmp_path / "r.zarr")
    assert _zarray(path, "aws_operating_margin")["filters"][0] == {"id": "shuffle", "elementsize": 8}
    assert np.array_equal(risk.load_run(path)["aws_operating_margin"].values, run["aws_operating_margin"].values)


def test_the_shuffle_filter_makes_lz4_store_less(small, tmp_path):
    """Blosc's own shuffle sees the checksum filter's bytes (1-byte items) and does nothing; the
    shuffle filter before the checksum saves at least a tenth of the bytes with the same lz4."""
    import numcodecs

    numeric = [v for v in small.data_vars if small[v].dtype.kind == "f"]
    unshuffled = {v: {"filters": [numcodecs.CRC32()], "compressors": [numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE)]}
                  for v in numeric}
    small.to_zarr(tmp_path / "plain.zarr", zarr_format=2, encoding=unshuffled)
    shuffled = risk.save_run(small, tmp_path / "shuffled.zarr")
    assert _size(shuffled) < 0.9 * _size(tmp_path / "plain.zarr")
    assert zarr_encoding(4)["filters"][0].elementsize == 4 and len(zarr_encoding(1)["filters"]) == 1
