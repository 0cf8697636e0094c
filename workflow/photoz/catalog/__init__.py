"""Stage 1, ``query_catalog``: the P19 selection of the SDSS Main Galaxy Sample."""
