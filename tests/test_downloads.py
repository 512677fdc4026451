"""File downloads are converted a batch at a time (bounded memory): every batch arrives."""

from __future__ import annotations

import json
import zipfile

import pyogrio
import pytest

from geoservice.server.features import downloads


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "csv", "kml"])
def test_every_batch_is_written(tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(downloads, "BATCH", 3)  # 10 features: batches of 3, 3, 3, 1
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [400_000 + i, 4_500_000 + i]},
            "properties": {"n": i, "name": f"Θέρμη {i}"},
        }
        for i in range(10)
    ]
    chunks = iter([json.dumps({"type": "FeatureCollection", "features": features}).encode()])
    path = downloads._convert(chunks, tmp_path, "layer", downloads.FORMATS[fmt], 2100)
    if fmt == "shp":
        with zipfile.ZipFile(path) as zipped:
            assert zipped.read("layer.cpg") == b"UTF-8"
        path = f"/vsizip/{path}"
    frame = pyogrio.read_dataframe(f"CSV:{path}" if fmt == "csv" else path)
    assert sorted(int(v) for v in frame["n"]) == list(range(10))
    assert "Θέρμη 9" in set(frame["Name" if fmt == "kml" else "name"])  # KML's own name
    if fmt in ("gpkg", "shp"):
        assert frame.crs.to_epsg() == 2100


def test_an_empty_layer_is_an_empty_file(tmp_path):
    chunks = iter([b'{"type":"FeatureCollection","features":[]}'])
    path = downloads._convert(chunks, tmp_path, "layer", downloads.FORMATS["gpkg"], 4326)
    assert len(pyogrio.read_dataframe(path)) == 0
