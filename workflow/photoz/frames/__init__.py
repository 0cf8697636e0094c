"""Stages 3-4, ``index_frames`` and ``fetch_frames``: SDSS corrected frames."""
