"""Which sky a catalog's galaxies are on (its metadata's ``sky``): the synthetic survey's
(frames rendered) or SDSS's (frames downloaded from the SAS)."""

from __future__ import annotations


def catalog_sky(catalog_meta: dict) -> str:
    """``synthetic`` or ``sdss`` from a catalog's metadata (catalogs written before the
    ``sky`` key existed: their backend)."""
    return catalog_meta.get("sky", "synthetic" if catalog_meta.get("backend") == "synthetic" else "sdss")
