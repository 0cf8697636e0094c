"""Stage 8, ``predict``: a trained member's PDFs for its fold's test galaxies.

Also usable on any cube files (a trained ensemble applied to new galaxies): see
:func:`predict_cubes`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ModelError
from ..tables import read_cubes, write_pdfs
from .member import configure_tensorflow, load_member, pdf_range


def predict_fold(member_dir: str, manifest_path: str, fold: int, out_path: str, threads: int = 0) -> int:
    """PDFs of fold ``fold``'s dataset galaxies by one member; returns the count."""
    from ..dataset.reader import evaluation_dataset
    from .networks import input_size, predict_dataset

    configure_tensorflow(threads, deterministic=True)
    model, params = load_member(member_dir)
    data = evaluation_dataset(manifest_path, fold, 256, params.pixel_transform, input_size(params.network))
    objids, _, pdfs = predict_dataset(model, data)
    write_pdfs(objids, pdfs, out_path, {"member_dir": str(member_dir), "fold": fold, **pdf_range(params)})
    return len(objids)


def cube_pdfs(model, params, cubes: np.ndarray, ebv: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Normalised float64 PDFs (N, n_bins) of a loaded member for cubes (N, 5, 64, 64)."""
    import tensorflow as tf

    from ..dataset.reader import apply_pixel_transform
    from .networks import input_size, output_pdf

    crop = input_size(params.network)
    lo = (cubes.shape[-1] - crop) // 2
    images = np.moveaxis(cubes[:, :, lo : lo + crop, lo : lo + crop], 1, -1)
    images = apply_pixel_transform(tf.constant(images), params.pixel_transform)
    inputs = {"image": images, "ebv": np.asarray(ebv, np.float32)[:, None]}
    pdf = np.asarray(output_pdf(model.predict(inputs, batch_size=batch_size, verbose=0)), dtype=np.float64)
    return pdf / pdf.sum(axis=1, keepdims=True)


def cube_file_ebv(path: str, table: pd.DataFrame, ebv: pd.Series) -> np.ndarray:
    """E(B-V) of the galaxies of a cube file (``ebv`` indexed by objid); :class:`ModelError`
    naming the first galaxy the catalog lacks."""
    objids = table["objid"].to_numpy(np.int64)
    absent = ~np.isin(objids, ebv.index.to_numpy())
    if absent.any():
        raise ModelError(f"galaxy {objids[absent][0]} of {path} has no E(B-V) in the catalog")
    return ebv.loc[objids].to_numpy()


def member_pdfs(member_dir: str, ebv: pd.Series, cube_files: list[str]):
    """(objid, normalised PDFs, the member's TrainParams) of every galaxy in
    ``cube_files`` by one member; ``ebv``: E(B-V) SFD indexed by objid."""
    model, params = load_member(member_dir)
    ids, pdfs = [], []
    for path in cube_files:
        table, cubes, _ = read_cubes(path)
        pdfs.append(cube_pdfs(model, params, cubes, cube_file_ebv(path, table, ebv)))
        ids.append(table["objid"].to_numpy(np.int64))
    return np.concatenate(ids), np.concatenate(pdfs), params


def predict_cubes(member_dir: str, catalog: pd.DataFrame, cube_files: list[str], out_path: str) -> int:
    """PDFs of every galaxy in ``cube_files`` (E(B-V) from ``catalog``) by one member."""
    configure_tensorflow(0, deterministic=True)
    objids, pdfs, params = member_pdfs(member_dir, catalog.set_index("objid")["e_bv_sfd"], cube_files)
    write_pdfs(
        objids, pdfs.astype(np.float32), out_path, {"member_dir": str(member_dir), **pdf_range(params)}
    )
    return len(objids)


def predict(
    members: list[str],
    outs: list[str],
    manifest: str | None = None,
    fold: int | None = None,
    cube_files: list[str] | None = None,
    catalog: str | None = None,
    threads: int = 0,
) -> None:
    """Stage ``predict``: each member's PDFs to its file in ``outs``; of the fold's test
    galaxies (``manifest``, ``fold``) or, with ``cube_files``, of any galaxies
    (E(B-V) from ``catalog``)."""
    if cube_files:
        table = pd.read_parquet(catalog, columns=["objid", "e_bv_sfd"])
        for member, out in zip(members, outs, strict=True):
            predict_cubes(member, table, cube_files, out)
        return
    for member, out in zip(members, outs, strict=True):
        predict_fold(member, manifest, fold, out, threads)
