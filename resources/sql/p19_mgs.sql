-- Pasquet et al. 2019, Appendix A: SDSS Main Galaxy Sample with spectroscopic
-- redshifts, dereddened Petrosian r <= $r_mag_limit and $z_min < z <= $z_max.
-- Placeholders (a dollar sign and a name) are filled by photoz.catalog.sql.render_sql; column aliases
-- are the lower-case SDSS names the pipeline reads.
SELECT
  po.objID AS objid, za.specObjID AS specobjid,
  po.ra AS ra, po.dec AS dec,
  za.z AS z, za.zErr AS zerr, za.zWarning AS zwarning, za.class AS class,
  za.sciencePrimary AS scienceprimary,
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
  zi.e_bv_sfd AS e_bv_sfd, zi.primtarget AS primtarget, zi.sectarget AS sectarget
$into_clause
FROM SpecObjAll AS za
  JOIN PhotoObjAll AS po ON po.objID = za.bestObjID
  JOIN Photoz AS zp ON zp.objID = za.bestObjID
  JOIN galSpecInfo AS zi ON zi.specObjID = za.specObjID
WHERE za.z > $z_min AND za.z <= $z_max AND za.zWarning = 0
  AND za.targetType = 'SCIENCE' AND za.survey = 'sdss'
  AND za.class = 'GALAXY'
  AND (zi.primtarget & 64) > 0
  AND po.clean = 1 AND po.insideMask = 0
  AND (po.petroMag_r - po.extinction_r) <= $r_mag_limit
  $extra_where
