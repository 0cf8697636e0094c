"""The Pasquet et al. (2019) network in Keras (functional API) and its named variants.

Architecture (docs/methods.md): 5x5 conv 64 + PReLU, 2x2 average pooling, five
inception modules, E(B-V) concatenated to the flattened features, two dense ReLU
layers and a softmax over the redshift bins. Every convolution: stride 1, SAME
padding, Glorot-uniform weights, biases 0.1, per-channel PReLU with slopes starting
at 0. Average pooling uses TF SAME padding, which averages over valid pixels only,
as the original code did.

``output="channels"`` replaces the single softmax by L22's multi-channel module
(docs/methods.md): six redshift heads (``zhead0..5``) over overlapping r-magnitude
windows and an r-magnitude head (``rhead``, 6 channels) on the same representation
(``fc2``); the PDF is the mixture sum_m p(m|x) p(z|m, x).

Variants differ only in widths (and an optional central crop for CPU runs, which
shrinks every feature map 4x); ``p19`` has exactly 27,596,372 trainable parameters.
A variant's input is its crop (``input_size``): the readers cut the central pixels
before augmentation (the crop commutes with the dihedral transforms), so that the
in-memory training set and the augmentation work on 4x fewer pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

from ..constants import CUTOUT_SIZE
from .channels import N_CHANNELS

N_BANDS = 5


@dataclass(frozen=True)
class NetworkSpec:
    """Widths of a variant: first conv, (n1, n2) of the five inception modules, dense units."""

    conv1: int
    inceptions: tuple[tuple[int, int], ...]
    dense: int
    crop: int = CUTOUT_SIZE  # central crop fed to the network (pixels)


NETWORKS: dict[str, NetworkSpec] = {
    # P19 (Pasquet et al. 2019, network.py): 27.6 M parameters.
    "p19": NetworkSpec(64, ((48, 64), (64, 92), (92, 128), (92, 128), (92, 128)), 1096),
    # L22's re-implementation (PZbias Net_P): dense 1024.
    "l22": NetworkSpec(64, ((48, 64), (64, 92), (92, 128), (92, 128), (92, 128)), 1024),
    # A quarter of the widths, for small training sets (P19 used a smaller net for 10k).
    "p19_small": NetworkSpec(16, ((12, 16), (16, 23), (23, 32), (23, 32), (23, 32)), 256),
    # The CPU variant of the default run: small widths on the central 32x32 pixels
    # (12.7 arcsec, several Petrosian radii at the survey's median redshift).
    "p19_cpu": NetworkSpec(16, ((12, 16), (16, 23), (23, 32), (23, 32), (23, 32)), 256, crop=32),
    "p19_tiny": NetworkSpec(8, ((6, 8), (8, 12), (12, 16), (12, 16), (12, 16)), 128, crop=32),
}


def _conv(x, filters: int, size: int, name: str):
    x = layers.Conv2D(
        filters,
        size,
        padding="same",
        kernel_initializer="glorot_uniform",
        bias_initializer=keras.initializers.Constant(0.1),
        name=f"{name}_conv",
    )(x)
    return layers.PReLU(alpha_initializer="zeros", shared_axes=[1, 2], name=f"{name}_prelu")(x)


def _pool(x, stride: int, name: str):
    return layers.AveragePooling2D(pool_size=2, strides=stride, padding="same", name=name)(x)


def _inception(x, n1: int, n2: int, with_5x5: bool, name: str):
    direct = _conv(x, n2, 1, f"{name}_d")
    b3 = _conv(_conv(x, n1, 1, f"{name}_b3r"), n2, 3, f"{name}_b3")
    pooled = _pool(_conv(x, n1, 1, f"{name}_pr"), 1, f"{name}_p")
    branches = [direct]
    if with_5x5:
        branches.append(_conv(_conv(x, n1, 1, f"{name}_b5r"), n2, 5, f"{name}_b5"))
    branches += [b3, pooled]
    return layers.Concatenate(name=f"{name}_concat")(branches)


def input_size(name: str) -> int:
    """Side in pixels of the central crop the named variant takes (64: the whole cutout)."""
    if name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; choose one of {sorted(NETWORKS)}")
    return NETWORKS[name].crop


OUTPUTS = ("single", "channels")
# z_phot of each output module: P19's PDF mean (Eq. 2); the mode of the mixture for
# L22's multi-channel heads, as their code does (its mean is pulled toward the middle of
# the range by the near-flat heads of channels a galaxy half belongs to)
POINT_ESTIMATE = {"single": "mean", "channels": "mode"}
REPRESENTATION = "fc2"


def channel_heads(features, n_bins: int, layers_of: dict | None = None) -> dict:
    """L22's output module on ``features``: {"pdf" (B, n_bins) mixture, "z_probs"
    (B, 6, n_bins) per head, "r_probs" (B, 6)}, all float32. ``layers_of`` reuses the
    head layers of a built model (training the heads on cached features)."""
    if layers_of is None:
        layers_of = {f"zhead{m}": layers.Dense(n_bins, name=f"zhead{m}") for m in range(N_CHANNELS)}
        layers_of["rhead"] = layers.Dense(N_CHANNELS, name="rhead")
    z_probs = layers.Concatenate(axis=1, name="z_probs_stack")(
        [
            layers.Reshape((1, n_bins), name=f"zhead{m}_row")(
                layers.Activation("softmax", dtype="float32", name=f"zhead{m}_softmax")(
                    layers_of[f"zhead{m}"](features)
                )
            )
            for m in range(N_CHANNELS)
        ]
    )
    r_probs = layers.Activation("softmax", dtype="float32", name="r_probs")(layers_of["rhead"](features))
    pdf = layers.Lambda(lambda t: mixture(t[0], t[1]), name="pdf", dtype="float32")([r_probs, z_probs])
    return {"pdf": pdf, "z_probs": z_probs, "r_probs": r_probs}


def mixture(r_probs, z_probs):
    """The mixture sum_m p(m|x) p(z|m, x)."""
    return keras.ops.einsum("bm,bmk->bk", r_probs, z_probs)


def build_network(name: str, n_bins: int = 180, output: str = "single") -> keras.Model:
    """The named variant with inputs ``image`` (crop, crop, 5) (the central pixels, see
    :func:`input_size`) and ``ebv`` (1,), output the softmax over ``n_bins`` redshift
    bins (float32 also under mixed precision), or with ``output="channels"`` the dict of
    :func:`channel_heads`."""
    if output not in OUTPUTS:
        raise ValueError(f"unknown network output {output!r}; choose one of {OUTPUTS}")
    if name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; choose one of {sorted(NETWORKS)}")
    spec = NETWORKS[name]
    image = keras.Input((spec.crop, spec.crop, N_BANDS), name="image")
    ebv = keras.Input((1,), name="ebv")
    x = _pool(_conv(image, spec.conv1, 5, "c1"), 2, "p1")
    (a1, a2), (b1, b2), (c1, c2), (d1, d2), (e1, e2) = spec.inceptions
    x = _inception(x, a1, a2, True, "i0")
    x = _inception(x, b1, b2, True, "i1")
    x = _pool(x, 2, "p2")
    x = _inception(x, c1, c2, True, "i2")
    x = _inception(x, d1, d2, True, "i3")
    x = _pool(x, 2, "p3")
    x = _inception(x, e1, e2, False, "i4")
    x = layers.Concatenate(name="features")([layers.Flatten(name="flatten")(x), ebv])
    for k in (1, 2):
        x = layers.Dense(
            spec.dense, activation="relu", bias_initializer=keras.initializers.Constant(0.1), name=f"fc{k}"
        )(x)
    if output == "channels":
        return keras.Model({"image": image, "ebv": ebv}, channel_heads(x, n_bins), name=name)
    logits = layers.Dense(n_bins, name="logits")(x)
    pdf = layers.Activation("softmax", dtype="float32", name="pdf")(logits)
    return keras.Model({"image": image, "ebv": ebv}, pdf, name=name)


def model_inputs(batch: dict) -> dict:
    """The network's inputs from a reader batch (photoz.dataset.reader)."""
    return {"image": batch["image"], "ebv": batch["ebv"][:, None]}


def output_pdf(output):
    """The PDF of a network's output (the mixture for ``output="channels"``)."""
    return output["pdf"] if isinstance(output, dict) else output


def n_output_bins(model: keras.Model) -> int:
    """Redshift bins of a network's PDF."""
    shape = model.output["pdf"].shape if isinstance(model.output, dict) else model.output.shape
    return int(shape[-1])


def predict_dataset(model: keras.Model, dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(objid, z, pdf) of every example of a reader dataset, in its order."""
    objids, zs, pdfs = [], [], []
    for batch in dataset:
        pdfs.append(output_pdf(model(model_inputs(batch), training=False)).numpy())
        objids.append(batch["objid"].numpy())
        zs.append(batch["z"].numpy())
    if not pdfs:
        return (
            np.zeros(0, np.int64),
            np.zeros(0, np.float32),
            np.zeros((0, n_output_bins(model)), np.float32),
        )
    return np.concatenate(objids), np.concatenate(zs), np.concatenate(pdfs).astype(np.float32)
