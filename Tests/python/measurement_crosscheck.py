# Independent measurement of an irregular lesion with numpy and scipy (scipy.spatial.ConvexHull), the
# fixture of LesionMeasurementTests.testIrregularLesionAgainstScipy (not run by CI, which has no scipy).
# Run: python3 Tests/python/measurement_crosscheck.py
import numpy as np
from scipy.spatial import ConvexHull
nx, ny, nz = 40, 36, 5
sx, sy, sz = 0.7, 0.9, 3.0
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
best = None
for k in range(nz):
    jj, ii = np.nonzero(m[k])
    if len(ii) == 0: continue
    pts = []
    for di in (-0.5, 0.5):
        for dj in (-0.5, 0.5):
            pts.append(np.stack([(ii + di) * sx, (jj + dj) * sy], 1))
    pts = np.concatenate(pts) @ R.T
    hull = pts[ConvexHull(pts).vertices]
    d = np.sqrt(((hull[:, None, :] - hull[None, :, :]) ** 2).sum(-1))
    p, q = np.unravel_index(np.argmax(d), d.shape)
    if best is None or d[p, q] > best[0] + 1e-9:
        best = (d[p, q], k, hull, hull[q] - hull[p])
L, k, hull, axis = best
u = axis / np.linalg.norm(axis); n = np.array([-u[1], u[0]])
a_ = hull @ u; b_ = hull @ n
# chord length perpendicular to the long axis, sampled densely along it
cs = np.linspace(a_.min(), a_.max(), 200001)
best_s = 0
H = len(hull)
lo = np.full(cs.shape, np.inf); hi = np.full(cs.shape, -np.inf)
for e in range(H):
    a0, a1, b0, b1 = a_[e], a_[(e + 1) % H], b_[e], b_[(e + 1) % H]
    if a0 == a1: continue
    t = (cs - a0) / (a1 - a0)
    ok = (t >= 0) & (t <= 1)
    w = b0 + t * (b1 - b0)
    lo = np.where(ok, np.minimum(lo, w), lo); hi = np.where(ok, np.maximum(hi, w), hi)
S = np.max(hi - lo)
print("long %.9f slice %d short %.6f volume_ml %.9f count %d" % (L, k, S, m.sum() * sx * sy * sz / 1000, m.sum()))
