"""Stage 5, ``resample_cubes``: SWarp-identical Lanczos-3 resampling into 5-band cubes."""
