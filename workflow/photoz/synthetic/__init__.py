"""The built-in synthetic SDSS survey: galaxies, sky geometry and observing conditions.

It produces the same artifacts as the real backends (a catalog with the CasJobs
columns; later, corrected frames in the SDSS format) so that every downstream stage
runs unchanged on either. See ``shared/design/synthetic-survey.md``.
"""
