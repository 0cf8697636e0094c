"""Stage 8, ``predict``: a trained member's PDFs for its fold's test galaxies.

Also usable on any cube files (a trained ensemble applied to new galaxies): see
:func:`predict_cubes`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def predict_cubes(member_dir: str, catalog: pd.DataFrame, cube_files: list[str], out_path: str) -> int:
    """PDFs of every galaxy in ``cube_files`` (E(B-V) from ``catalog``) by one member."""
    import tensorflow as tf

    from ..dataset.reader import apply_pixel_transform
    from .networks import input_size, output_pdf

    configure_tensorflow(0, deterministic=True)
    model, params = load_member(member_dir)
    ebv = catalog.set_index("objid")["e_bv_sfd"]
    all_ids, all_pdfs = [], []
    for path in cube_files:
        table, cubes, _ = read_cubes(path)
        crop = input_size(params.network)
        lo = (cubes.shape[-1] - crop) // 2
        cubes = cubes[:, :, lo : lo + crop, lo : lo + crop]
        images = apply_pixel_transform(tf.constant(np.moveaxis(cubes, 1, -1)), params.pixel_transform)
        e = ebv.loc[table["objid"].to_numpy()].to_numpy(np.float32)[:, None]
        pdf = output_pdf(model.predict({"image": images, "ebv": e}, batch_size=256, verbose=0))
        all_ids.append(table["objid"].to_numpy().astype(np.int64))
        all_pdfs.append(pdf.astype(np.float32))
    objids, pdfs = np.concatenate(all_ids), np.concatenate(all_pdfs)
    write_pdfs(objids, pdfs, out_path, {"member_dir": str(member_dir), **pdf_range(params)})
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
