-- Photometric MGS-like galaxies (targets without any spectroscopic requirement): primary
-- galaxies with dereddened Petrosian r <= $r_mag_limit, clean photometry, outside masks,
-- the same photometry columns as p19_mgs.sql and no SpecObj join. E(B-V) SFD is the
-- r-band extinction over its SFD coefficient (SDSS's extinction_r = $r_extinction_coeff E(B-V)).
-- Placeholders (a dollar sign and a name) are filled by photoz.catalog.sql.render_sql.
SELECT
  po.objID AS objid, po.ra AS ra, po.dec AS dec,
  po.type AS type, po.flags AS flags, po.clean AS clean, po.insideMask AS insidemask,
  po.run AS run, po.rerun AS rerun, po.camcol AS camcol, po.field AS field,
  po.petroMag_u AS petromag_u, po.petroMag_g AS petromag_g, po.petroMag_r AS petromag_r,
  po.petroMag_i AS petromag_i, po.petroMag_z AS petromag_z,
  po.petroMagErr_u AS petromagerr_u, po.petroMagErr_g AS petromagerr_g,
  po.petroMagErr_r AS petromagerr_r, po.petroMagErr_i AS petromagerr_i,
  po.petroMagErr_z AS petromagerr_z,
  po.extinction_u AS extinction_u, po.extinction_g AS extinction_g,
  po.extinction_r AS extinction_r, po.extinction_i AS extinction_i,
  po.extinction_z AS extinction_z,
  (po.petroMag_u - po.extinction_u) AS dered_petro_u,
  (po.petroMag_g - po.extinction_g) AS dered_petro_g,
  (po.petroMag_r - po.extinction_r) AS dered_petro_r,
  (po.petroMag_i - po.extinction_i) AS dered_petro_i,
  (po.petroMag_z - po.extinction_z) AS dered_petro_z,
  po.psfFWHM_u AS psffwhm_u, po.psfFWHM_g AS psffwhm_g, po.psfFWHM_r AS psffwhm_r,
  po.psfFWHM_i AS psffwhm_i, po.psfFWHM_z AS psffwhm_z,
  po.sky_u AS sky_u, po.sky_g AS sky_g, po.sky_r AS sky_r, po.sky_i AS sky_i,
  po.sky_z AS sky_z,
  po.expAB_r AS expab_r, po.deVAB_r AS devab_r,
  zp.z AS zphot, zp.zErr AS dzphot,
  (po.extinction_r / $r_extinction_coeff) AS e_bv_sfd
$into_clause
FROM PhotoPrimary AS po
  LEFT OUTER JOIN Photoz AS zp ON zp.objID = po.objID
WHERE po.type = 3
  AND po.clean = 1 AND po.insideMask = 0
  AND (po.petroMag_r - po.extinction_r) <= $r_mag_limit
  $extra_where
