# Independent measurements with numpy and scipy (scipy.spatial.ConvexHull) of the fixtures of
# LesionMeasurementTests (not run by CI): the outline of a slice is the convex hull of the points where the edge
# crosses each voxel row and column, half-way beyond the first and last voxel (on the voxel face); long axis = the
# hull's diameter (brute force over hull vertices), short axis = the longest chord perpendicular to it, by sampling
# 200001 cuts along the long axis.
# Run: python3 Tests/python/measurement_crosscheck.py
import os
import sys

import numpy as np
from scipy.spatial import ConvexHull

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synth_followup_diameters import face_points  # noqa: E402  (the row/column end-face middles)



def measure(m, sx, sy, sz, R=np.eye(2)):
    """m: bool array (slice, v, u); returns long, slice, short, volume ml, voxel count."""
    best = None
    for k in range(m.shape[0]):
        jj, ii = np.nonzero(m[k])
        if len(ii) == 0:
            continue
        pts = np.unique(face_points(ii, jj, sx, sy) @ R.T, axis=0)
        hull = pts[ConvexHull(pts).vertices]
        d = np.sqrt(((hull[:, None, :] - hull[None, :, :]) ** 2).sum(-1))
        p, q = np.unravel_index(np.argmax(d), d.shape)
        if best is None or d[p, q] > best[0] + 1e-9:
            best = (d[p, q], k, hull, hull[q] - hull[p])
    L, k, hull, axis = best
    u = axis / np.linalg.norm(axis); n = np.array([-u[1], u[0]])
    a_ = hull @ u; b_ = hull @ n
    cs = np.linspace(a_.min(), a_.max(), 200001)
    H = len(hull)
    lo = np.full(cs.shape, np.inf); hi = np.full(cs.shape, -np.inf)
    for e in range(H):
        a0, a1, b0, b1 = a_[e], a_[(e + 1) % H], b_[e], b_[(e + 1) % H]
        if a0 == a1:
            continue
        t = (cs - a0) / (a1 - a0)
        ok = (t >= 0) & (t <= 1)
        w = b0 + t * (b1 - b0)
        lo = np.where(ok, np.minimum(lo, w), lo); hi = np.where(ok, np.maximum(hi, w), hi)
    S = np.max(hi - lo)
    return L, k, S, m.sum() * sx * sy * sz / 1000, int(m.sum())


def report(name, r):
    print("%s: long %.9f slice %d short %.6f volume_ml %.9f count %d" % ((name,) + r))


# testAxisAlignedRectangleAnisotropicSpacing: 20 x 12 x 4 voxels of 0.7 x 1.3 x 2.5 mm; slice 1: i 3..10, j 4..6;
# slice 2: i 3..6, j 4..5.
m = np.zeros((4, 12, 20), bool)
m[1, 4:7, 3:11] = True
m[2, 4:6, 3:7] = True
report("rectangle", measure(m, 0.7, 1.3, 2.5))

# testCoronalGridSlicesAcrossTheCranioCaudalAxis: axial slices across j; in-plane axes i (0.5 mm) and k (0.7 mm),
# the bar i 2..3, k 3..22 in every slice j 5..34.
m = np.zeros((40, 30, 6), bool)  # (j, k, i)
m[5:35, 3:23, 2:4] = True
report("coronal bar", measure(m, 0.5, 0.7, 1.5))

# testIrregularLesionAgainstScipy: rotated 20 degrees about z, 0.7 x 0.9 x 3 mm.
nx, ny, nz = 40, 36, 5
a = np.deg2rad(20)
R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def inside(i, j, k):
    disc = 1 <= k <= 3 and (i - 12) ** 2 + (j - 14) ** 2 <= 49 - 8 * (k - 2) ** 2
    bar = k == 2 and 20 <= i <= 34 and 10 <= j <= 13 + (i - 20) // 5
    return disc or bar


m = np.zeros((nz, ny, nx), bool)
for k in range(nz):
    for j in range(ny):
        for i in range(nx):
            m[k, j, i] = inside(i, j, k)
report("irregular", measure(m, 0.7, 0.9, 3.0, R))
