"""Lin et al. (2022) bias corrections of the P19 classifier, steps 1-4 (docs/methods.md).

* :mod:`.channels`: the r-magnitude grid, the 6 interlaced output channels and the
  step 1 targets;
* :mod:`.subset`: the near-balanced training subset of steps 2 and 3;
* :mod:`.labels`: step 3's range extension, fitted label dispersions, shifted and
  softened labels;
* :mod:`.heads`: training the redshift heads on the frozen step 1 representation
  (steps 2 and 3);
* :mod:`.calibration`: step 4, calibration in (r, z_phot) cells.
"""
