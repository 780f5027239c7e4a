#!/usr/bin/env python3
"""Compare two LesionMap feature stores with h5py: every group, dataset and attribute.

Usage: compare_stores.py A.h5 B.h5 [--allow-extra=NAME,NAME...]

The stores must hold the same groups and datasets, with equal values (NaN equal to NaN), shapes and
kinds, and the same attributes with equal values everywhere, except the root's `created_utc` (the time
the store was written) and the root's `sha256` (a checksum that covers `created_utc`). With
--allow-extra, B may also hold the named top-level groups (e.g. scores,aggregates,plans,comparison: the
tables later steps add to a store), which A lacks. Exits 1 listing the differences.
"""
import sys

import h5py
import numpy as np

IGNORED_ROOT_ATTRIBUTES = {"created_utc", "sha256"}


def same_value(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    if a.dtype.kind in "fiu" and b.dtype.kind in "fiu":
        return bool(np.array_equal(a, b))
    return a.dtype.kind == b.dtype.kind and bool(np.array_equal(a, b))


def objects(f):
    found = {"/": f}
    f.visititems(lambda name, obj: found.__setitem__("/" + name, obj))
    return found


def compare(path_a, path_b, allowed_extra):
    problems = []
    with h5py.File(path_a, "r") as fa, h5py.File(path_b, "r") as fb:
        a, b = objects(fa), objects(fb)
        for name in sorted(set(a) - set(b)):
            problems.append(f"{name}: only in {path_a}")
        for name in sorted(set(b) - set(a)):
            if name.split("/")[1] not in allowed_extra:
                problems.append(f"{name}: only in {path_b}")
        for name in sorted(set(a) & set(b)):
            oa, ob = a[name], b[name]
            if isinstance(oa, h5py.Dataset) != isinstance(ob, h5py.Dataset):
                problems.append(f"{name}: a dataset in one store, a group in the other")
                continue
            if isinstance(oa, h5py.Dataset) and not same_value(oa[()], ob[()]):
                problems.append(f"{name}: values differ (shapes {oa.shape} and {ob.shape})")
            ignored = IGNORED_ROOT_ATTRIBUTES if name == "/" else set()
            keys_a, keys_b = set(oa.attrs) - ignored, set(ob.attrs) - ignored
            if keys_a != keys_b:
                problems.append(f"{name}: attributes differ: {sorted(keys_a ^ keys_b)}")
            for key in sorted(keys_a & keys_b):
                if not same_value(oa.attrs[key], ob.attrs[key]):
                    problems.append(f"{name}: attribute {key} differs")
        compared = len(set(a) & set(b))
    return problems, compared


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    options = [a for a in argv if a.startswith("--")]
    if len(args) != 2 or any(not o.startswith("--allow-extra=") for o in options):
        print(__doc__, file=sys.stderr)
        return 2
    allowed = {n for o in options for n in o.split("=", 1)[1].split(",") if n}
    problems, compared = compare(args[0], args[1], allowed)
    if problems:
        print(f"{args[0]} and {args[1]} differ:", file=sys.stderr)
        for p in problems[:50]:
            print("  " + p, file=sys.stderr)
        return 1
    print(f"{args[0]} and {args[1]}: {compared} groups and datasets equal, with every attribute "
          f"(bar the root's created_utc and its checksum)"
          + (f"; the second also holds /{', /'.join(sorted(allowed))}" if allowed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
