"""Stage 10-11: metrics of every method (``evaluate``) and the HTML report (``report``)."""
