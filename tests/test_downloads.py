"""File downloads are converted a batch at a time (bounded memory): every batch arrives."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

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


# -- the portal's route: a HEAD converts nothing, an aborted GET leaves nothing behind ------

DOWNLOAD = "/portal/datasets/municipalities/download"


@pytest.fixture
def temporary(monkeypatch, tmp_path):
    """The temporary folders the downloads make, counted in a temp dir of this test's own (other
    test runs on the machine make theirs in the system one); the conversions, counted."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(downloads, "CHUNK", 4096)  # files of several chunks
    converted = []
    convert = downloads._convert

    def counted(*args, **kwargs):
        converted.append(args[3].driver)
        return convert(*args, **kwargs)

    monkeypatch.setattr(downloads, "_convert", counted)

    def folders() -> list[str]:
        return sorted(p.name for p in Path(tempfile.gettempdir()).glob("geoservice-download-*"))

    return folders, converted


@pytest.mark.parametrize("fmt", ["shp", "gpkg", "csv", "kml"])
def test_a_head_converts_nothing_and_leaves_nothing(client, temporary, fmt):
    folders, converted = temporary
    assert folders() == []
    response = client.head(DOWNLOAD, query_string={"format": fmt})
    assert response.status_code == 200
    assert response.get_data() == b""
    assert response.headers["Content-Type"] == downloads.FORMATS[fmt].media_type
    assert "attachment" in response.headers["Content-Disposition"]
    response.close()
    assert (converted, folders()) == ([], [])  # nothing converted, nothing left


def test_a_head_refuses_what_a_get_refuses(client, temporary):
    folders, converted = temporary
    assert client.head(DOWNLOAD, query_string={"format": "dxf"}).status_code == 400
    assert client.head(DOWNLOAD, query_string={"format": "shp", "crs": "3857"}).status_code == 400
    assert client.head(DOWNLOAD.replace("municipalities", "nosuch")).status_code == 404
    assert converted == [] and folders() == []


@pytest.mark.parametrize("fmt", ["shp", "gpkg"])
def test_a_get_aborted_after_the_first_chunk_removes_its_folder(client, temporary, fmt):
    """The client goes away mid-file: the WSGI server closes the response iterator, and the
    converted layer goes with it."""
    folders, converted = temporary
    response = client.get(DOWNLOAD, query_string={"format": fmt}, buffered=False)
    assert response.status_code == 200
    assert converted == [downloads.FORMATS[fmt].driver]
    assert len(folders()) == 1  # the converted layer, being sent
    assert int(response.headers["Content-Length"]) > 2 * downloads.CHUNK  # an abort mid-file
    assert len(next(iter(response.response))) == downloads.CHUNK
    response.close()
    assert folders() == []


@pytest.mark.parametrize("fmt", ["shp", "gpkg"])
def test_a_get_closed_before_its_first_chunk_removes_its_folder(client, temporary, fmt):
    """The server closes the body before reading any of it (the test client always reads the
    first chunk, so the WSGI app is called directly here)."""
    from werkzeug.test import EnvironBuilder

    folders, converted = temporary
    environ = EnvironBuilder(path=DOWNLOAD, query_string={"format": fmt}).get_environ()
    statuses = []
    body = client.application(
        environ, lambda status, headers, exc_info=None: statuses.append(status)
    )
    assert statuses == ["200 OK"] and converted == [downloads.FORMATS[fmt].driver]
    assert len(folders()) == 1
    body.close()
    assert folders() == []


@pytest.mark.parametrize("fmt", ["shp", "gpkg"])
def test_a_complete_get_removes_its_folder(client, temporary, fmt):
    folders, _ = temporary
    response = client.get(DOWNLOAD, query_string={"format": fmt})
    assert response.status_code == 200
    assert len(response.get_data()) == int(response.headers["Content-Length"])
    response.close()
    assert folders() == []
