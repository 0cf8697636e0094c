"""photoz: image-based photometric redshifts (Pasquet et al. 2019, Lin et al. 2022).

The library behind the Snakemake pipeline. Every stage's logic lives here; the
scripts in ``workflow/scripts`` are thin command-line wrappers. The library never
imports Snakemake.
"""

__version__ = "0.1.0"
