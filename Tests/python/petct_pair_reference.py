"""Independent reference for PETCTPairTests (issue 13): PET measures of SEG segments drawn on a DICOM CT series
and carried onto the DICOM PET series of the same study, from the files alone with pydicom and numpy.

Usage: petct_pair_reference.py CT_FOLDER PET_FOLDER SEG_FILE

- Each series is read slice by slice; slices are ordered along the normal of ImageOrientationPatient, the voxel
  geometry is world = ImagePositionPatient(first slice) + i*dx*row + j*dy*column + k*dz*normal.
- PET voxels: pixel_array x RescaleSlope + RescaleIntercept (Bq/ml) converted to body-weight SUV with
  PatientWeight x 1000 / (RadionuclideTotalDose x 2^(-(t0 - RadiopharmaceuticalStartTime) / RadionuclideHalfLife)),
  t0 the earlier of SeriesTime and the first AcquisitionTime (DecayCorrection START).
- SEG: the bit-packed frames unpacked by pydicom, each placed on the CT slice at its ImagePositionPatient.
- Carrying (README "Several modalities per lesion", the documented partial-volume rule): a PET voxel belongs to
  the lesion when at least half of 6 x 6 x 6 sub-points (centres of its equal sub-cells) fall in a CT voxel of
  the segment, each sub-point taken to its nearest CT voxel.

Prints JSON {segment number: {label, suv_max, suv_mean, pet_voxels, ct_voxels, pet_voxel_ml, ct_voxel_ml}}.
"""
import sys, os, glob, json, datetime
import numpy as np
import pydicom


def read_series(folder):
    ds = [pydicom.dcmread(f) for f in glob.glob(os.path.join(folder, "*.dcm"))]
    o = np.array(ds[0].ImageOrientationPatient, float)
    row, col = o[:3], o[3:]
    normal = np.cross(row, col)
    ds.sort(key=lambda d: float(np.dot(normal, np.array(d.ImagePositionPatient, float))))
    vol = np.stack([d.pixel_array.astype(np.float64) * float(d.get("RescaleSlope", 1)) + float(d.get("RescaleIntercept", 0))
                    for d in ds])  # [k, j, i]
    positions = np.array([d.ImagePositionPatient for d in ds], float)
    dy, dx = (float(v) for v in ds[0].PixelSpacing)
    dz = float(np.dot(normal, positions[-1] - positions[0])) / (len(ds) - 1)
    axes = np.column_stack([row * dx, col * dy, normal * dz])  # world = origin + axes @ (i, j, k)
    return ds, vol, positions[0], axes, positions


def suv_factor(ds):
    d0 = ds[0]
    assert d0.Units == "BQML" and d0.DecayCorrection == "START"
    info = d0.RadiopharmaceuticalInformationSequence[0]

    def t(date, time):
        return datetime.datetime.strptime(date + time.split(".")[0], "%Y%m%d%H%M%S")
    ref = min([t(d0.SeriesDate, d0.SeriesTime)] + [t(d.AcquisitionDate, d.AcquisitionTime) for d in ds])
    elapsed = (ref - t(d0.SeriesDate, info.RadiopharmaceuticalStartTime)).total_seconds()
    decayed = float(info.RadionuclideTotalDose) * 2 ** (-elapsed / float(info.RadionuclideHalfLife))
    return float(d0.PatientWeight) * 1000 / decayed


def seg_masks(path, ct_positions, ct_origin, ct_axes, shape):
    seg = pydicom.dcmread(path)
    frames = seg.pixel_array.reshape(-1, seg.Rows, seg.Columns)
    labels = {int(s.SegmentNumber): str(s.SegmentLabel) for s in seg.SegmentSequence}
    normal = ct_axes[:, 2] / np.linalg.norm(ct_axes[:, 2])
    depth = ct_positions @ normal
    masks = {}
    for n, fg in enumerate(seg.PerFrameFunctionalGroupsSequence):
        s = int(fg.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        p = np.array(fg.PlanePositionSequence[0].ImagePositionPatient, float)
        k = int(np.argmin(np.abs(depth - p @ normal)))
        assert np.allclose(p, ct_positions[k], atol=1e-3), "SEG frame off the CT slices"
        m = masks.setdefault(s, np.zeros(shape, bool))
        m[k] |= frames[n].astype(bool)
    return masks, labels


def carry(mask, ct_origin, ct_axes, pt_origin, pt_axes, pt_shape, n=6):
    """PET voxels [k, j, i] with at least half of n^3 sub-points inside `mask` (CT voxels [k, j, i])."""
    offsets = (np.arange(n) + 0.5) / n - 0.5
    sub = np.stack(np.meshgrid(offsets, offsets, offsets, indexing="ij"), -1).reshape(-1, 3)  # (i, j, k) offsets
    kk, jj, ii = np.indices(pt_shape)
    centres = np.stack([ii.ravel(), jj.ravel(), kk.ravel()], -1).astype(float)  # (voxels, 3) as (i, j, k)
    to_ct = np.linalg.inv(ct_axes)
    count = np.zeros(len(centres), int)
    nz, ny, nx = mask.shape
    for o in sub:
        world = pt_origin + (centres + o) @ pt_axes.T
        c = (world - ct_origin) @ to_ct.T
        idx = np.floor(c + 0.5).astype(int)
        ok = (idx >= 0).all(1) & (idx[:, 0] < nx) & (idx[:, 1] < ny) & (idx[:, 2] < nz)
        hit = np.zeros(len(centres), bool)
        hit[ok] = mask[idx[ok, 2], idx[ok, 1], idx[ok, 0]]
        count += hit
    return (2 * count >= n ** 3).reshape(pt_shape)


def main():
    ct_folder, pt_folder, seg_path = sys.argv[1:4]
    _, ct, ct_origin, ct_axes, ct_positions = read_series(ct_folder)
    pt_ds, pt, pt_origin, pt_axes, _ = read_series(pt_folder)
    suv = pt * suv_factor(pt_ds)
    masks, labels = seg_masks(seg_path, ct_positions, ct_origin, ct_axes, ct.shape)
    out = {}
    for s, m in sorted(masks.items()):
        carried = carry(m, ct_origin, ct_axes, pt_origin, pt_axes, suv.shape)
        values = suv[carried]
        out[str(s)] = {"label": labels[s],
                       "suv_max": float(values.max()) if values.size else None,
                       "suv_mean": float(values.mean()) if values.size else None,
                       "pet_voxels": int(carried.sum()), "ct_voxels": int(m.sum()),
                       "pet_voxel_ml": float(abs(np.linalg.det(pt_axes))) / 1000,
                       "ct_voxel_ml": float(abs(np.linalg.det(ct_axes))) / 1000}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
