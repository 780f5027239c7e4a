#!/usr/bin/env python3
"""Checks the true diameters of a synthetic follow-up cohort (`lesionmap synth --timepoints N`) against an
independent numpy measurement of the written masks.

Usage: python3 Tests/python/synth_followup_diameters.py COHORT_DIR

For every row of lesions.csv: the label's voxels in the mask, per axial slice the largest in-plane distance
between voxel centres (mm), between voxel corners (the convex hull of the voxel squares), and between the middles of
the row and column end faces (where the edge crosses each voxel row and column, as Response.LesionMeasurement
measures), the largest over slices; compared with truth_followup.csv `diameter_mm`.
Prints how many agree within one in-plane and one 3D voxel diagonal and the largest differences, and the
per-lesion category and patient response counts of the truth. Needs numpy only (NIfTI-1 read by hand).
Exit 1 when a diameter is off by more than one voxel diagonal.
"""
import csv, gzip, os, struct, sys
from collections import Counter

import numpy as np


def read_nifti(path):
    raw = gzip.open(path).read()
    dims = struct.unpack("<8h", raw[40:56])
    datatype = struct.unpack("<h", raw[70:72])[0]
    pixdim = struct.unpack("<8f", raw[76:108])
    offset = int(struct.unpack("<f", raw[108:112])[0])
    dtype = {2: np.uint8, 4: np.int16, 8: np.int32, 16: np.float32, 256: np.int8, 512: np.uint16}[datatype]
    nx, ny, nz = dims[1], dims[2], dims[3]
    data = np.frombuffer(raw[offset:offset + nx * ny * nz * np.dtype(dtype).itemsize], dtype=dtype)
    return data.reshape((nz, ny, nx)), (pixdim[1], pixdim[2], pixdim[3])


def face_points(i, j, sx, sy):
    """Middles of the end faces of every voxel row (fixed j) and column (fixed i) of one slice's voxels (mm):
    where the lesion's edge crosses each row and column, as Response.LesionMeasurement outlines a slice."""
    pts = []
    for jj in np.unique(j):
        r = i[j == jj]
        pts += [((r.min() - 0.5) * sx, jj * sy), ((r.max() + 0.5) * sx, jj * sy)]
    for ii in np.unique(i):
        r = j[i == ii]
        pts += [(ii * sx, (r.min() - 0.5) * sy), (ii * sx, (r.max() + 0.5) * sy)]
    return np.array(pts, float)


def face_diameter(i, j, sx, sy):
    """Largest distance between two of `face_points`."""
    p = face_points(i, j, sx, sy)
    return float(np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(-1)).max())


def slice_diameters(points_mm, sx, sy):
    """Largest distance between voxel centres, and between voxel corners, of one slice's voxels."""
    if len(points_mm) == 0:
        return 0.0, 0.0
    d = points_mm[:, None, :] - points_mm[None, :, :]
    centre = float(np.sqrt((d ** 2).sum(-1)).max())
    offsets = np.array([[-sx / 2, -sy / 2], [sx / 2, -sy / 2], [-sx / 2, sy / 2], [sx / 2, sy / 2]])
    corners = (points_mm[:, None, :] + offsets[None, :, :]).reshape(-1, 2)
    corners = np.unique(corners, axis=0)
    # The farthest corner pair lies on the extreme corners in each direction: check against all pairs of the
    # candidate extremes (the points extreme along 180 directions), exact for convex hull diameters.
    angles = np.linspace(0, np.pi, 180, endpoint=False)
    dirs = np.stack([np.cos(angles), np.sin(angles)], 1)
    proj = corners @ dirs.T
    idx = np.unique(np.concatenate([proj.argmax(0), proj.argmin(0)]))
    c = corners[idx]
    dc = c[:, None, :] - c[None, :, :]
    corner = float(np.sqrt((dc ** 2).sum(-1)).max())
    return centre, corner


def main():
    cohort = sys.argv[1]
    lesions = list(csv.DictReader(open(os.path.join(cohort, "lesions.csv"))))
    truth = {(r["patient_id"], r["lesion_id"], r["timepoint"]): r
             for r in csv.DictReader(open(os.path.join(cohort, "truth_followup.csv")))}
    masks = {}
    res = []
    for r in lesions:
        if r["mask"] not in masks:
            masks[r["mask"]] = read_nifti(os.path.join(cohort, r["mask"]))
        m, (sx, sy, sz) = masks[r["mask"]]
        label = int(r["roi"])
        best_centre = best_corner = best_face = 0.0
        for k in np.unique(np.nonzero(m == label)[0]):
            j, i = np.nonzero(m[k] == label)
            pts = np.stack([i * sx, j * sy], 1).astype(float)
            c, cc = slice_diameters(pts, sx, sy)
            best_centre, best_corner = max(best_centre, c), max(best_corner, cc)
            best_face = max(best_face, face_diameter(i, j, sx, sy))
        t = float(truth[(r["patient_id"], r["lesion_id"], r["timepoint"])]["diameter_mm"])
        res.append((r["timepoint"], t, best_centre, best_corner, best_face))
    inplane = (sx * sx + sy * sy) ** 0.5
    diag = (sx * sx + sy * sy + sz * sz) ** 0.5
    a = np.array([(t, c, cc, f) for _, t, c, cc, f in res])
    for name, col in (("voxel centres", 1), ("voxel corners", 2), ("row/column end faces", 3)):
        err = a[:, col] - a[:, 0]
        print(f"{name}: {len(a)} lesion scans, mean difference {err.mean():+.2f} mm, largest |difference| "
              f"{np.abs(err).max():.2f} mm; within the in-plane diagonal {inplane:.2f} mm: "
              f"{(np.abs(err) <= inplane).sum()}, within the voxel diagonal {diag:.2f} mm: {(np.abs(err) <= diag).sum()}")
    cats = Counter(t["category"] for t in truth.values() if t["timepoint"] != "0")
    print("truth per-lesion categories at follow-ups:", dict(sorted(cats.items())))
    patients = list(csv.DictReader(open(os.path.join(cohort, "truth_followup_patients.csv"))))
    fu = [p for p in patients if p["timepoint"] != "0"]
    print("truth patient RECIST:", dict(sorted(Counter(p["recist"] for p in fu).items())))
    both = [p for p in fu if p["abscopal_any_lesion"] != "" and p["abscopal_recist"] != ""]
    print(f"abscopal: any-lesion {sum(p['abscopal_any_lesion'] == '1' for p in both)}, RECIST "
          f"{sum(p['abscopal_recist'] == '1' for p in both)} of {len(both)} evaluable patient follow-ups; "
          f"disagree at {sum(p['abscopal_any_lesion'] != p['abscopal_recist'] for p in both)}")
    worst = max(np.abs(a[:, col] - a[:, 0]).max() for col in (1, 2, 3))
    return 0 if worst <= diag else 1


if __name__ == "__main__":
    sys.exit(main())
