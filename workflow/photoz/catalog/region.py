"""An optional sky region (RA/Dec box or cone) that limits a sample.

Config form (``catalog.region`` and ``targets.region``): ``{ra_min, ra_max, dec_min,
dec_max}`` in degrees (``ra_min > ra_max`` wraps through RA 0) or ``{ra, dec,
radius_deg}``. The same region is a ``WHERE`` condition for the SQL backends (the cone
through CAS's unit vectors ``cx, cy, cz``) and a row mask for the rest, and the mask
also checks what a server returned.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError
from ..skycells import unit_vectors

BOX_KEYS = ("ra_min", "ra_max", "dec_min", "dec_max")
CONE_KEYS = ("ra", "dec", "radius_deg")


def region_kind(region: dict[str, Any] | None, key: str = "region") -> str | None:
    """``"box"``, ``"cone"`` or ``None``; :class:`ConfigError` naming ``key`` otherwise."""
    if not region:
        return None
    for kind, keys in (("box", BOX_KEYS), ("cone", CONE_KEYS)):
        if set(region) == set(keys):
            return kind
    raise ConfigError(f"{key}: give either {{{', '.join(BOX_KEYS)}}} or {{{', '.join(CONE_KEYS)}}}")


def region_mask(ra: np.ndarray, dec: np.ndarray, region: dict[str, Any] | None) -> np.ndarray:
    """True for the positions (degrees) inside ``region`` (everywhere when ``None``)."""
    ra, dec = np.asarray(ra, dtype=np.float64), np.asarray(dec, dtype=np.float64)
    kind = region_kind(region)
    if kind is None:
        return np.ones(ra.shape, dtype=bool)
    if kind == "box":
        lo, hi = float(region["ra_min"]) % 360.0, float(region["ra_max"]) % 360.0
        in_ra = (ra >= lo) & (ra <= hi) if lo <= hi else (ra >= lo) | (ra <= hi)
        return in_ra & (dec >= region["dec_min"]) & (dec <= region["dec_max"])
    centre = unit_vectors(np.array(region["ra"], dtype=float), np.array(region["dec"], dtype=float))
    return unit_vectors(ra, dec) @ centre >= np.cos(np.radians(float(region["radius_deg"])))


def region_sql(region: dict[str, Any] | None, table: str = "po") -> str:
    """The region as an ``AND ...`` condition on CAS ``PhotoObj`` columns ('' if none)."""
    kind = region_kind(region)
    if kind is None:
        return ""
    if kind == "box":
        lo, hi = float(region["ra_min"]) % 360.0, float(region["ra_max"]) % 360.0
        join = "AND" if lo <= hi else "OR"
        return (
            f"AND ({table}.ra >= {lo!r} {join} {table}.ra <= {hi!r})"
            f" AND {table}.dec BETWEEN {float(region['dec_min'])!r} AND {float(region['dec_max'])!r}"
        )
    centre = unit_vectors(np.array(region["ra"], dtype=float), np.array(region["dec"], dtype=float))
    x, y, z = (float(c) for c in centre)
    cos_r = float(np.cos(np.radians(float(region["radius_deg"]))))
    return f"AND {table}.cx * {x!r} + {table}.cy * {y!r} + {table}.cz * {z!r} >= {cos_r!r}"
