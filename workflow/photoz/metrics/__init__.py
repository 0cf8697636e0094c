"""Photo-z metrics (method-spec §3), usable on any (z_spec, pdf) arrays."""
