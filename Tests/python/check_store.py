#!/usr/bin/env python3
"""Check a LesionMap feature store with h5py and print its shape.

Usage: check_store.py STORE.h5 [--manifest LESIONS.csv]

With --manifest, also checks that the store holds exactly the manifest's lesions
(one row per (patient_id, lesion_id) of lesions.csv, in manifest patient order).

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
import hashlib
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
