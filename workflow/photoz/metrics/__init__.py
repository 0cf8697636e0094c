"""Photo-z metrics (docs/stages.md, stages 10-11), usable on any (z_spec, pdf) arrays."""
