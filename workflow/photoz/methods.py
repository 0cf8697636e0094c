"""The photo-z methods the pipeline trains and compares (config ``methods``).

* ``baseline``: the P19 classifier (one 180-bin softmax), trained on all data;
* ``step1``: L22 step 1, the same network with the multi-channel output module, from
  scratch or from the trained baseline member (config ``lin2022.step1_init``);
* ``step2``: step 1's redshift heads fine-tuned on the near-balanced subset;
* ``step3``: new heads on the extended range, shifted and softened labels; ``step3a``
  (hard shifted labels), ``step3b`` (soft unshifted labels) and ``step3_unbalanced``
  (every training galaxy, no balancing: L22's fth = 10000) are L22's variants;
* ``step4``: step 3's photo-z calibrated in (r, z_phot) cells (no training);
* ``baseline_calibrated``: the baseline's photo-z through the same calibration, the
  control that tells what step 4 owes to steps 1-3 and what to the calibration alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    """How a method is made: ``network`` (trained end to end), ``heads`` (redshift heads
    trained on a frozen step 1 representation) or ``calibration`` (of another method)."""

    kind: str
    output: str = "single"  # network output module (photoz.models.networks.OUTPUTS)
    of: str | None = None  # calibration: the method calibrated
    shift: bool = False  # step 3 labels: shifted away from the denser side
    soft: bool = False  # step 3 labels: softened with the fitted dispersion
    extended: bool = False  # heads over the extended redshift range
    balanced: bool = True  # heads: trained on the near-balanced subset (else every galaxy)


METHODS: dict[str, Method] = {
    "baseline": Method("network"),
    "step1": Method("network", output="channels"),
    "step2": Method("heads", output="channels"),
    "step3": Method("heads", "channels", shift=True, soft=True, extended=True),
    "step3a": Method("heads", "channels", shift=True, soft=False, extended=True),
    "step3b": Method("heads", "channels", shift=False, soft=True, extended=True),
    "step3_unbalanced": Method("heads", "channels", shift=True, soft=True, extended=True, balanced=False),
    "step4": Method("calibration", of="step3"),
    "baseline_calibrated": Method("calibration", of="baseline"),
}


def method(name: str) -> Method:
    """The named method; a clear error for an unknown name."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose from {sorted(METHODS)}")
    return METHODS[name]


#: Methods trained end to end (rule ``train``) and as heads on step 1 (``train_heads``).
NETWORK_METHODS: tuple[str, ...] = tuple(n for n, m in METHODS.items() if m.kind == "network")
HEAD_METHODS: tuple[str, ...] = tuple(n for n, m in METHODS.items() if m.kind == "heads")
#: Methods that calibrate another one (rules ``calibrate``, ``calibrate_targets``).
CALIBRATION_METHODS: tuple[str, ...] = tuple(n for n, m in METHODS.items() if m.kind == "calibration")
