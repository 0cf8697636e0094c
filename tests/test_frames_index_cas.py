"""The real-data frame index: CAS Field box queries, played at the HTTP layer."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pandas as pd
import pytest
import responses
from test_frames_download import FIXTURES

from photoz.catalog.selection import CatalogError
from photoz.frames.cas_fields import FieldQueryParams, field_boxes, query_fields
from photoz.frames.geometry import cutout_corners, frame_overlaps
from photoz.frames.index import index_from_fields
from photoz.frames.reader import read_frame

DATA = Path(__file__).parent / "data" / "cas"
URL = re.compile(r"https://skyserver\.sdss\.org/.*")
BOX = re.compile(r"decmax >= (\S+) AND decmin <= (\S+) AND ramax >= (\S+) AND ramin <= (\S+)")
# The fixture's bright isolated source; one galaxy in the 128-row overlap of fields
# 135/136; one in the camcol 2 / run 2662 overlap; one far away.
GALAXIES = pd.DataFrame(
    {
        "objid": np.array([1, 2, 3, 4], dtype=np.uint64),
        "ra": [323.325854, 323.268, 323.35, 10.0],
        "dec": [-0.832365, -0.70, -0.625, 5.0],
    }
)


def _field_server(queries: list[str]):
    rows = pd.read_csv(DATA / "field_rows.csv", comment="#")

    def callback(request):
        sql = parse_qs(urlparse(request.url).query)["cmd"][0]
        queries.append(sql)
        d_lo, d_hi, r_lo, r_hi = map(float, BOX.search(sql).groups())
        sub = rows[
            (rows.decmax >= d_lo) & (rows.decmin <= d_hi) & (rows.ramax >= r_lo) & (rows.ramin <= r_hi)
        ]
        return 200, {}, "#Table1\n" + sub.to_csv(index=False)

    return callback


def test_field_queries_are_chunked_and_index_finds_overlapping_frames():
    queries: list[str] = []
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.GET, URL, callback=_field_server(queries))
        fields = query_fields(GALAXIES, 12, FieldQueryParams.from_config(box_deg=1.0))
    assert len(queries) == 2  # one sky box around 323 deg, one around 10 deg
    assert all("FROM Field WHERE rerun = 301" in q for q in queries)
    assert len(fields) == 4  # camcol 3 lies beyond the box margin
    index = index_from_fields(GALAXIES, fields, 12, "cache", "https://data.sdss.org/sas")
    frames = {
        o: set(g[["run", "camcol", "field"]].itertuples(index=False, name=None))
        for o, g in index.groupby("objid")
    }
    assert frames[1] == {(2583, 2, 136)}
    assert frames[2] == {(2583, 2, 135), (2583, 2, 136)}
    assert frames[3] == {(2583, 2, 136), (2662, 2, 136)}
    assert 4 not in frames
    assert set(index["band"]) == set("ugriz") and len(index) == 5 * 5
    row = index[(index["objid"] == 1) & (index["band"] == "r")].iloc[0]
    assert row["url"] == (
        "https://data.sdss.org/sas/dr12/boss/photoObj/frames/301/2583/2/frame-r-002583-2-0136.fits.bz2"
    )
    assert row["path"] == "cache/dr12/boss/photoObj/frames/301/2583/2/frame-r-002583-2-0136.fits.bz2"


@pytest.mark.skipif(not (FIXTURES / "dr12").is_dir(), reason=f"real SDSS frames not found in {FIXTURES}")
def test_field_box_agrees_with_the_real_frame_wcs():
    """Galaxies the Field box assigns to 2583/2/136 do overlap the real frame's pixels."""
    frame = read_frame(FIXTURES / "dr12/boss/photoObj/frames/301/2583/2/frame-r-002583-2-0136.fits.bz2")
    ra, dec = cutout_corners(GALAXIES["ra"].to_numpy()[:3], GALAXIES["dec"].to_numpy()[:3])
    assert frame_overlaps(frame.wcs, 2048, 1489, ra, dec).all()


def test_boxes_split_at_ra_zero():
    galaxies = pd.DataFrame({"ra": [359.95, 0.05], "dec": [0.0, 0.0]})
    boxes = field_boxes(galaxies, 1.0)
    assert any(b[1] == 360.0 for b in boxes) and any(b[0] == 0.0 for b in boxes)
    assert all(0.0 <= b[0] < b[1] <= 360.0 for b in boxes)


def test_field_query_error_names_the_box():
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, URL, body="#Table1\nerror_message\n Invalid object name 'Field'.\n")
        with pytest.raises(CatalogError, match=r"Field query DR12 box ra \[.*Invalid object name"):
            query_fields(GALAXIES.iloc[:1], 12, FieldQueryParams.from_config())
