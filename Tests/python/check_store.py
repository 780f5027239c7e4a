#!/usr/bin/env python3
"""Check a LesionMap feature store with h5py and print its shape.

Usage: check_store.py STORE.h5 [--manifest LESIONS.csv]

With --manifest, also checks that the store holds exactly the manifest's lesions
(one row per (patient_id, lesion_id) of lesions.csv, in manifest patient order).
When the manifest has an image_pt column (a PET/CT cohort such as the demo's,
`lesionmap synth --pet`) and its masks are NIfTI label maps, every such lesion's
PET is checked independently from the NIfTI files with numpy: the CT mask carried
onto the PET grid by the documented rule (a PET voxel belongs when at least half
of its 6 x 6 x 6 sub-points fall, by nearest voxel, on the CT mask), then
suv_max, suv_mean, suv_peak (1 cm3 sphere, PERCIST), mtv_ml and tlg against the
store's /lesions columns, the row's modalities (CT,PT), and the pt.tumour matrix
(finite for every such row; its intensity.mean and intensity.max against the numpy
SUVmean and SUVmax: pet-default resamples to 4 mm, the synthetic PET's own grid).

Prints the lesion table shape, each feature matrix shape, and the patient
table, and asserts the layout rules of schema 2: schema_version == 2, every
column of every table has the table's n_rows rows, /lesions has patient_id,
lesion_id and timepoint (days from baseline), /scans has patient_id, timepoint
and modality, each feature matrix is named <modality>.<region> and has one row
per lesion row and one column per name, and settings_hash is the SHA-256 of
settings_json.

A store with checksums (root attribute `integrity` == "sha256-v1") is verified
independently of LesionMap: every dataset's `sha256` against its contents
(float64 little-endian bytes, or each UTF-8 text followed by a zero byte), every
table's `sha256` against its column list and text attributes, the root's against
its text attributes, and numeric datasets (unless empty) must carry HDF5's
Fletcher32 filter.
"""
import gzip
import hashlib
import os
import struct
import sys

import h5py
import numpy as np


def text_digest(texts):
    """SHA-256 of texts as LesionMap checksums them: each text's UTF-8 bytes and a zero byte."""
    return hashlib.sha256(b"".join(str(t).encode("utf-8") + b"\0" for t in texts)).hexdigest()


def stored_digest(obj):
    """The fixed-length `sha256` attribute of a dataset or group, as str (h5py reads it as bytes)."""
    value = obj.attrs["sha256"]
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def verify_checksums(f):
    """Recomputes every checksum of a store written with integrity sha256-v1; returns how many."""
    checked = 0
    root_texts = [f.attrs[n] for n in ("software", "created_utc", "settings_json", "settings_hash")]
    if "lesion_matching" in f.attrs:  # optional, digested only when present
        root_texts.append(f.attrs["lesion_matching"])
    assert stored_digest(f) == text_digest(root_texts), "root attributes do not match the root's sha256"
    checked += 1

    def visit(name, obj):
        nonlocal checked
        if isinstance(obj, h5py.Dataset):
            if h5py.check_string_dtype(obj.dtype) is not None:
                digest = text_digest(obj.asstr()[()])
            else:
                assert obj.fletcher32 or obj.size == 0, f"{obj.name} has no Fletcher32 filter"
                digest = hashlib.sha256(np.ascontiguousarray(obj[()], dtype="<f8").tobytes()).hexdigest()
            assert stored_digest(obj) == digest, f"{obj.name} does not match its sha256"
            checked += 1
        elif "columns" in obj.attrs:
            columns = [str(c) for c in obj.attrs["columns"]]
            extra = sorted((k, str(v)) for k, v in obj.attrs.items() if k not in ("columns", "n_rows", "sha256"))
            texts = [str(len(columns))] + columns + [t for pair in extra for t in pair]
            assert stored_digest(obj) == text_digest(texts), f"{obj.name} attributes do not match its sha256"
            checked += 1

    f.visititems(visit)
    return checked


def read_table(group):
    """Ordered {column: numpy array} of a columnar table group; text as str."""
    names = [str(n) for n in group.attrs["columns"]]
    n_rows = int(group.attrs["n_rows"])
    table = {}
    for name in names:
        dataset = group[name]
        assert dataset.ndim == 1, f"{group.name}/{name} is not 1-D"
        assert dataset.shape[0] == n_rows, f"{group.name}/{name} has {dataset.shape[0]} rows, table has {n_rows}"
        if h5py.check_string_dtype(dataset.dtype) is not None:
            table[name] = dataset.asstr()[()]
        else:
            table[name] = dataset[()]
    return table, n_rows


def find_tables(group, reserved):
    """Paths of further tables (groups with a 'columns' attribute) below group."""
    found = []
    for name, item in group.items():
        if group.name == "/" and name in reserved:
            continue
        if isinstance(item, h5py.Group):
            if "columns" in item.attrs:
                found.append(item.name)
            else:
                found.extend(find_tables(item, reserved))
    return found


def read_nifti(path):
    """A NIfTI-1 file as (voxels[z, y, x] float64, spacing (x, y, z), LPS origin, LPS direction columns), the
    geometry as LesionMap (and ITK) read it: spacing from pixdim, origin and directions from the sform
    (RAS, x and y negated), each direction column normalised. Only files whose sform is set are read."""
    raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    assert struct.unpack("<i", raw[0:4])[0] == 348, f"{path}: not a little-endian NIfTI-1 file"
    dims = struct.unpack("<8h", raw[40:56])
    datatype = struct.unpack("<h", raw[70:72])[0]
    pixdim = struct.unpack("<8f", raw[76:108])
    offset = int(struct.unpack("<f", raw[108:112])[0])
    slope, inter = struct.unpack("<2f", raw[112:120])
    sform_code = struct.unpack("<h", raw[254:256])[0]
    srow = [struct.unpack("<4f", raw[280 + 16 * r:296 + 16 * r]) for r in range(3)]
    assert sform_code > 0, f"{path}: no sform"
    dtype = {2: np.uint8, 4: np.int16, 8: np.int32, 16: np.float32, 64: np.float64, 256: np.int8,
             512: np.uint16, 768: np.uint32}[datatype]
    nx, ny, nz = dims[1], dims[2], dims[3]
    data = np.frombuffer(raw[offset:offset + nx * ny * nz * np.dtype(dtype).itemsize], dtype=dtype)
    data = data.reshape((nz, ny, nx)).astype(np.float64)
    if slope not in (0.0, 1.0) or inter != 0.0:
        data = data * slope + inter
    flip = (-1.0, -1.0, 1.0)
    origin = np.array([flip[r] * float(srow[r][3]) for r in range(3)])
    columns = []
    for c in range(3):
        v = np.array([flip[r] * float(srow[r][c]) for r in range(3)])
        columns.append((1 / np.sqrt(v @ v)) * v)
    spacing = np.array([float(pixdim[1]), float(pixdim[2]), float(pixdim[3])])
    return data, spacing, origin, np.array(columns).T


def carry_mask(mask, ct, pet, n=6):
    """The CT mask (z, y, x booleans) on the PET grid by LesionMap's rule (Mask.transferred(onto:)): each PET
    voxel sampled at the centres of its n^3 sub-cells, each sub-point taken to the nearest CT voxel
    (floor(index + 0.5)); the voxel belongs when 2 * inside >= n^3. Axis-aligned grids with identity directions
    only (the synthetic cohorts); the arithmetic follows LesionMap's operation by operation, so that sub-points
    lying exactly on a CT voxel boundary round the same way."""
    (_, csp, corg, cdir), (pshape, psp, porg, pdir) = ct, pet
    assert (cdir == np.eye(3)).all() and (pdir == np.eye(3)).all(), "oblique grids are not checked"
    nz, ny, nx = mask.shape
    out = np.zeros(pshape, dtype=bool)
    if not mask.any():
        return out
    offsets = (np.arange(n) + 0.5) / n - 0.5
    # PET continuous index t -> CT continuous index s = a t + b, per axis (x, y, z).
    a = [(1.0 * psp[c]) / csp[c] for c in range(3)]
    b = [(porg[c] - corg[c]) / csp[c] for c in range(3)]
    zs, ys, xs = np.nonzero(mask)
    lo_ct, hi_ct = [xs.min(), ys.min(), zs.min()], [xs.max(), ys.max(), zs.max()]
    # PET voxels whose sub-points can reach the mask's box (a voxel of slack on each side).
    ranges = []
    for c, size in zip(range(3), (pshape[2], pshape[1], pshape[0])):
        lo = int(np.floor(((lo_ct[c] - 0.5) - b[c]) / a[c])) - 1
        hi = int(np.ceil(((hi_ct[c] + 0.5) - b[c]) / a[c])) + 1
        ranges.append(np.arange(max(lo, 0), min(hi, size - 1) + 1))
    # Sub-point CT indices along each axis: floor(((a t + b) + o a) + 0.5), t the PET index.
    def source_index(c):
        t = ranges[c].astype(np.float64)
        centre = a[c] * t + b[c]
        return np.floor((centre[:, None] + offsets[None, :] * a[c]) + 0.5).astype(np.int64)
    si, sj, sk = source_index(0), source_index(1), source_index(2)
    for kk, k in enumerate(ranges[2]):
        for jj, j in enumerate(ranges[1]):
            for ii, i in enumerate(ranges[0]):
                x, y, z = si[ii], sj[jj], sk[kk]
                okx, oky, okz = (x >= 0) & (x < nx), (y >= 0) & (y < ny), (z >= 0) & (z < nz)
                sub = mask[np.ix_(z[okz], y[oky], x[okx])]
                if 2 * int(sub.sum()) >= n ** 3:
                    out[k, j, i] = True
    return out


def pet_measures(suv, mask, spacing):
    """suv_max, suv_mean, suv_peak, mtv_ml, tlg as README/PETUptake define them, in numpy."""
    values = suv[mask]
    n = values.size
    mean = values.sum() / n
    mtv = n * spacing[0] * spacing[1] * spacing[2] / 1000
    r = 10 * (3 / (4 * np.pi)) ** (1 / 3)
    sx, sy, sz = spacing
    ri, rj = int(np.floor(r / sx)), int(np.floor(r / sy))
    columns = []
    for dj in range(-rj, rj + 1):
        for di in range(-ri, ri + 1):
            rest = r * r - di * di * sx * sx - dj * dj * sy * sy
            if rest >= 0:
                columns.append((di, dj, int(np.floor(np.sqrt(rest) / sz))))
    nz, ny, nx = suv.shape
    peak = -np.inf
    for k, j, i in zip(*np.nonzero(mask)):
        total, count = 0.0, 0
        for di, dj, h in columns:
            ci, cj = i + di, j + dj
            if not (0 <= ci < nx and 0 <= cj < ny):
                continue
            lo, hi = max(0, k - h), min(nz - 1, k + h)
            if lo <= hi:
                total += suv[lo:hi + 1, cj, ci].sum()
                count += hi - lo + 1
        peak = max(peak, total / count)
    return {"suv_max": values.max(), "suv_mean": mean, "suv_peak": peak, "mtv_ml": mtv, "tlg": mean * mtv}


def check_pet(f, manifest, lesions):
    """The PET checks of a PET/CT cohort (see the module docstring); returns the number of lesions checked."""
    import csv
    folder = os.path.dirname(os.path.abspath(manifest))
    with open(manifest, newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("image_pt")]
    if not rows:
        return 0
    index = {(p, l): n for n, (p, l, t) in enumerate(zip(lesions["patient_id"], lesions["lesion_id"],
                                                          lesions["timepoint"])) if t == 0}
    pt_names = list(f["features/pt.tumour/names"].asstr()[()])
    pt_values = f["features/pt.tumour/values"][()]
    mean_col, max_col = pt_names.index("intensity.mean"), pt_names.index("intensity.max")
    images, checked, worst, worst_feature = {}, 0, 0.0, 0.0

    def load(rel):
        if rel not in images:
            images.clear() if len(images) > 4 else None
            images[rel] = read_nifti(os.path.join(folder, rel))
        return images[rel]

    for r in rows:
        key = (r["patient_id"], r["lesion_id"])
        if key not in index:
            continue  # a failed patient (checked against /failures above)
        n = index[key]
        where = f"patient {key[0]}, lesion {key[1]}"
        assert lesions["modalities"][n] == "CT,PT", f"{where}: modalities {lesions['modalities'][n]!r}, expected CT,PT"
        ct_img, ct_sp, ct_org, ct_dir = load(r["image"])
        labels = load(r["mask"])[0]
        assert labels.shape == ct_img.shape, f"{where}: mask and image sizes differ"
        pet_img, pet_sp, pet_org, pet_dir = load(r["image_pt"])
        carried = carry_mask(labels == float(r["roi"]), (None, ct_sp, ct_org, ct_dir),
                             (pet_img.shape, pet_sp, pet_org, pet_dir))
        assert carried.any(), f"{where}: the mask carried onto the PET is empty"
        expected = pet_measures(pet_img, carried, pet_sp)
        for name, value in expected.items():
            got = float(lesions[name][n])
            diff = abs(got - value) / max(abs(value), 1e-12)
            worst = max(worst, diff)
            assert diff <= 1e-9, f"{where}: {name} {got!r} in the store, {value!r} from the NIfTI files"
        row = pt_values[n]
        assert np.isfinite(row).sum() > 0.9 * row.size, f"{where}: pt.tumour row is mostly missing"
        for col, name in ((mean_col, "suv_mean"), (max_col, "suv_max")):
            diff = abs(row[col] - expected[name]) / expected[name]
            worst_feature = max(worst_feature, diff)
            assert diff <= 1e-4, f"{where}: pt.tumour {pt_names[col]} {row[col]!r}, numpy {name} {expected[name]!r}"
        checked += 1
    no_pet = [n for n, m in enumerate(lesions["modalities"]) if "PT" not in m.split(",")]
    assert all(not np.isfinite(pt_values[n]).any() for n in no_pet), "pt.tumour values on a row without PET"
    print(f"PET: {checked} lesions with image_pt: suv_max, suv_mean, suv_peak, mtv_ml, tlg equal an independent "
          f"numpy computation from the NIfTI files (largest relative difference {worst:.1e}); pt.tumour "
          f"intensity.mean/max equal SUVmean/SUVmax within {worst_feature:.1e}")
    return checked


def main(path, manifest=None):
    with h5py.File(path, "r") as f:
        attrs = f.attrs
        assert int(attrs["schema_version"]) == 2, f"schema_version is {attrs['schema_version']}"
        settings_json = attrs["settings_json"]
        assert isinstance(settings_json, str), "settings_json is not read as str"
        assert attrs["settings_hash"] == hashlib.sha256(settings_json.encode("utf-8")).hexdigest(), \
            "settings_hash is not the SHA-256 of settings_json"
        print(f"store {path}")
        integrity = attrs.get("integrity")
        if integrity is not None:
            integrity = integrity.decode("ascii") if isinstance(integrity, bytes) else str(integrity)
            assert integrity == "sha256-v1", f"unknown integrity scheme {integrity}"
            print(f"  integrity {integrity}: {verify_checksums(f)} checksums match")
        else:
            print("  no checksums (written before LesionMap checksummed its stores)")
        print(f"  software {attrs['software']}, created {attrs['created_utc']}, "
              f"settings_hash {attrs['settings_hash'][:12]}...")

        lesions, n_lesions = read_table(f["lesions"])
        print(f"lesions: {n_lesions} rows x {len(lesions)} columns: {', '.join(lesions)}")
        if n_lesions:
            assert "patient_id" in lesions and "lesion_id" in lesions and "timepoint" in lesions
            assert list(lesions)[:3] == ["patient_id", "lesion_id", "timepoint"], "lesion id columns are not first"
            keys = list(zip(lesions["patient_id"], lesions["lesion_id"], lesions["timepoint"]))
            assert len(set(keys)) == n_lesions, "a (patient, lesion, timepoint) row is there twice"

        scans, n_scans = read_table(f["scans"])
        print(f"scans: {n_scans} rows x {len(scans)} columns")
        if n_scans:
            assert {"patient_id", "timepoint", "modality", "image"} <= set(scans), f"scan columns {list(scans)}"

        regions = sorted(f["features"].keys())
        for region in regions:
            modality, _, area = region.partition(".")
            assert modality and area in ("tumour", "ring", "core", "tumour_ring"), \
                f"features/{region} is not named <modality>.<region>"
            values = f[f"features/{region}/values"]
            names = f[f"features/{region}/names"].asstr()[()]
            print(f"features/{region}: values {values.shape}, {len(names)} names")
            assert values.ndim == 2, f"features/{region}/values is not 2-D"
            assert values.shape[0] == n_lesions, f"features/{region} has {values.shape[0]} rows, {n_lesions} lesions"
            assert values.shape[1] == len(names), f"features/{region} has {values.shape[1]} columns, {len(names)} names"
            assert len(set(names)) == len(names), f"features/{region} has duplicate names"

        patients, n_patients = read_table(f["patients"])
        print(f"patients: {n_patients} rows x {len(patients)} columns")
        if n_patients:
            assert "patient_id" in patients
            assert len(set(patients["patient_id"])) == n_patients, "a patient is listed twice"
            assert set(lesions.get("patient_id", [])) <= set(patients["patient_id"]), "lesions of unknown patients"
        header = list(patients)
        print("  " + " | ".join(header))
        for row in range(n_patients):
            cells = []
            for name in header:
                value = patients[name][row]
                cells.append(f"{value:g}" if isinstance(value, (float, np.floating)) else str(value))
            print("  " + " | ".join(cells))

        failures, n_failures = read_table(f["failures"])
        assert list(failures) == ["patient_id", "stage", "message"], f"failure columns {list(failures)}"
        print(f"failures: {n_failures}")
        for row in range(n_failures):
            print(f"  {failures['patient_id'][row]} at {failures['stage'][row]}: {failures['message'][row]}")

        for table_path in find_tables(f, {"patients", "lesions", "scans", "features", "failures"}):
            table, n_rows = read_table(f[table_path])
            print(f"table {table_path}: {n_rows} rows x {len(table)} columns")
        if manifest is not None:
            import csv
            with open(manifest, newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
            # Baseline rows (time point 0): the manifest's rows without a timepoint, or with 0.
            expected = [(r["patient_id"], r["lesion_id"]) for r in rows if float(r.get("timepoint") or 0) == 0]
            got = [(p, l) for p, l, t in zip(lesions["patient_id"], lesions["lesion_id"], lesions["timepoint"]) if t == 0]
            failed = set(failures["patient_id"]) if n_failures else set()
            expected = [e for e in expected if e[0] not in failed]
            assert sorted(got) == sorted(expected), "store lesions differ from the manifest's"
            print(f"manifest {manifest}: {len(expected)} lesions, all in the store "
                  f"(CT tumour matrix {f['features/ct.tumour/values'].shape})")
            if "pt.tumour" in f["features"] or any(r.get("image_pt") for r in rows):
                assert "pt.tumour" in f["features"], "the manifest has image_pt but the store no pt.tumour matrix"
                print(f"PT tumour matrix {f['features/pt.tumour/values'].shape}")
                check_pet(f, manifest, lesions)
    print("OK")


if __name__ == "__main__":
    args = sys.argv[1:]
    manifest = None
    if len(args) == 3 and args[1] == "--manifest":
        manifest = args[2]
        args = args[:1]
    if len(args) != 1:
        sys.exit(__doc__)
    main(args[0], manifest)
