"""A loopback SkyServer stand-in for the real-SDSS workflow test, and its answers.

It serves astroquery's SQL search (``/dr{N}/en/tools/search/x_results.aspx?cmd=SQL``)
in SkyServer's CSV format (a ``#Table1`` line, then the header): a CAS ``Field`` query
gets the recorded Field row of the fixture field (run 2583, camcol 2, field 136, from
``tests/data/cas/field_rows.csv``) when it overlaps the query's box; a ``PhotoPrimary``
query gets the target galaxies inside its RA chunk (``po.ra >= lo AND po.ra < hi``),
as SkyServer evaluates it. Every request is counted.

The target galaxies are real sources of the fixture frames: extended (half-light
radius above the stars'), isolated sources of the r frame found with ``sep``, away from
the field's bright star, inside the part of field 136 no other field overlaps, with
aperture magnitudes measured on each band's frame. Their E(B-V) is a stand-in value (no
SFD map offline), so the rows are not CAS's photometry: what is real is the galaxies'
pixels.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pandas as pd

from photoz.constants import BANDS, EXTINCTION_COEFF
from photoz.frames.reader import read_frame

DATA = Path(__file__).parent / "data"
FIXTURE_FIELD = {"run": 2583, "rerun": 301, "camcol": 2, "field": 136}
FRAME = "dr12/boss/photoObj/frames/301/2583/2/frame-{}-002583-2-0136.fits.bz2"
#: E(B-V) given to every fixture target (a stand-in: Stripe 82 at RA 323 deg is ~0.05).
STANDIN_EBV = 0.05
#: Gaussian window (sigma, pixels) of the galaxies' positions (sep.winpos, SExtractor's
#: XWIN/YWIN): a cube's centroid is measured with the same window.
WINDOW_SIGMA_PX = 2.0
#: Aperture radius (pixels) of the stand-in Petrosian magnitudes.
APERTURE_PX = 8.0


def _sdss_objid(run: int, rerun: int, camcol: int, field: int, obj: int) -> int:
    """SDSS objID bit layout (skyVersion 2)."""
    return (2 << 59) | (rerun << 48) | (run << 32) | (camcol << 29) | (field << 16) | obj


def fixture_targets(fixtures: Path, r_mag_limit: float = 17.8) -> pd.DataFrame:
    """Rows of the target query (``resources/sql/mgs_photometric.sql``'s columns) for the
    extended, isolated real sources of the fixture field brighter than ``r_mag_limit``."""
    import sep
    from scipy.spatial import cKDTree

    field_row = pd.read_csv(DATA / "cas" / "field_rows.csv", comment="#")
    fields = field_row.set_index("field")
    ra_lo, ra_hi = fields.loc[135, "ramax"], fields.loc[137, "ramin"]  # overlap-free part
    margin = 0.01  # deg: a cutout's half-diagonal (0.005) and the Lanczos apron
    r_frame = read_frame(fixtures / FRAME.format("r"))
    data = r_frame.image.astype(np.float64)
    background = sep.Background(data)
    data = data - background
    sep.set_sub_object_limit(4096)
    objects = sep.extract(data, 5.0, err=background.globalrms, minarea=20)
    x, y = objects["x"], objects["y"]
    radius, _ = sep.flux_radius(data, x, y, 6.0 * objects["a"], 0.5, normflux=objects["flux"], subpix=5)
    separation = cKDTree(np.c_[x, y]).query(np.c_[x, y], 2)[0][:, 1]
    xw, yw, _ = sep.winpos(data, x, y, np.full(len(x), WINDOW_SIGMA_PX))
    ra, dec = r_frame.wcs.all_pix2world(xw, yw, 0)
    mag_r = 22.5 - 2.5 * np.log10(np.maximum(objects["flux"], 1e-3))
    stars = np.median(radius[(mag_r < 18) & (objects["flag"] == 0)])
    giants = cKDTree(np.c_[x, y][mag_r < 12.0])  # the field's bright star and its halo
    clear = giants.query(np.c_[x, y])[0] > 300.0 if giants.n else np.ones(len(x), bool)
    ny, nx = data.shape
    keep = (
        clear
        & (objects["flag"] <= 1)
        & (radius > 1.3 * stars)
        & (mag_r < r_mag_limit - 0.3)
        & (separation > 15.0)
        & (xw > 70)
        & (xw < nx - 70)
        & (yw > 70)
        & (yw < ny - 70)
        & (ra > ra_lo + margin)
        & (ra < ra_hi - margin)
    )
    ra, dec = ra[keep], dec[keep]
    rows = pd.DataFrame(
        {
            "objid": [_sdss_objid(**FIXTURE_FIELD, obj=k + 1) for k in range(len(ra))],
            "ra": ra,
            "dec": dec,
            "type": 3,
            "flags": 0,
            "clean": 1,
            "insidemask": 0,
            **FIXTURE_FIELD,
        }
    )
    for band in BANDS:
        frame = r_frame if band == "r" else read_frame(fixtures / FRAME.format(band))
        image = frame.image.astype(np.float64)
        bkg = sep.Background(image)
        bx, by = frame.wcs.all_world2pix(ra, dec, 0)
        flux, err, _ = sep.sum_circle(image - bkg, bx, by, APERTURE_PX, err=bkg.globalrms, gain=4.7)
        flux = np.maximum(flux, 1e-3)
        extinction = EXTINCTION_COEFF[band] * STANDIN_EBV
        rows[f"petromag_{band}"] = 22.5 - 2.5 * np.log10(flux)
        rows[f"petromagerr_{band}"] = 1.0857 * err / flux
        rows[f"extinction_{band}"] = extinction
        rows[f"dered_petro_{band}"] = rows[f"petromag_{band}"] - extinction
        rows[f"psffwhm_{band}"] = -9999.0
        rows[f"sky_{band}"] = -9999.0
    rows["expab_r"] = rows["devab_r"] = -9999.0
    rows["zphot"] = rows["dzphot"] = -9999.0
    rows["e_bv_sfd"] = STANDIN_EBV
    return rows[rows["dered_petro_r"] <= r_mag_limit].reset_index(drop=True)


def _csv(table: pd.DataFrame) -> bytes:
    return ("#Table1\n" + table.to_csv(index=False)).encode()


def _floats(pattern: str, sql: str) -> list[float]:
    match = re.search(pattern, sql)
    return [float(v) for v in match.groups()] if match else []


class SkyServerStandIn:
    """Start with ``with SkyServerStandIn(targets) as server:``; ``server.url`` is the
    base URL to give ``catalog.skyserver.base_url``."""

    def __init__(self, targets: pd.DataFrame):
        self.targets = targets
        self.fields = pd.read_csv(DATA / "cas" / "field_rows.csv", comment="#")
        self.fields = self.fields[self.fields["field"] == FIXTURE_FIELD["field"]]
        self.requests: Counter = Counter()
        self.clients: set[str] = set()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server's naming
                url = urlparse(self.path)
                sql = " ".join(parse_qs(url.query).get("cmd", [""])[0].split())
                kind = (
                    "field" if " FROM Field " in sql else "photoprimary" if "PhotoPrimary" in sql else "other"
                )
                with server._lock:
                    server.requests[kind] += 1
                    server.clients.add(self.client_address[0])
                if not url.path.endswith("/x_results.aspx") or kind == "other":
                    return self._send(400, b"<html><body>Bad request</body></html>", "text/html")
                self._send(200, _csv(server.answer(kind, sql)), "text/plain")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def answer(self, kind: str, sql: str) -> pd.DataFrame:
        """The rows SkyServer would return for ``sql``."""
        if kind == "field":
            dec_lo, dec_hi, ra_lo, ra_hi = _floats(
                r"decmax >= (\S+) AND decmin <= (\S+) AND ramax >= (\S+) AND ramin <= (\S+)", sql
            )
            f = self.fields
            return f[
                (f["decmax"] >= dec_lo)
                & (f["decmin"] <= dec_hi)
                & (f["ramax"] >= ra_lo)
                & (f["ramin"] <= ra_hi)
            ]
        bounds = _floats(r"po\.ra >= (\S+) AND po\.ra < (\S+)", sql)
        t = self.targets
        return t[(t["ra"] >= bounds[0]) & (t["ra"] < bounds[1])] if bounds else t

    def __enter__(self) -> SkyServerStandIn:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
