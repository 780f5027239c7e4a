#!/usr/bin/env python3
"""Compares `lesionmap response` output with the truth of a synthetic follow-up cohort (`lesionmap synth
--timepoints N`): per-lesion categories (confusion table, agreement), diameters (within one in-plane voxel
diagonal), patient RECIST 1.1, and the two abscopal definitions (how often they disagree, ours and the truth's).

Usage: python3 Tests/python/response_vs_truth.py LESIONS.csv PATIENTS.csv COHORT_DIR [--voxel-diagonal MM] [--misses]
(LESIONS.csv / PATIENTS.csv as written by `lesionmap response STORE --csv ... --patients-csv ...`; COHORT_DIR holds
truth_followup.csv and truth_followup_patients.csv.) --misses lists every disagreeing lesion with its RECIST
diameter (short axis for nodes) at baseline, at its nadir and now, in the truth and measured. Plain Python, no packages needed. Exit 1 when category
agreement is below 95 %.
"""
import csv, sys, os, math
from collections import Counter


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main():
    args = sys.argv[1:]
    diag = None
    if "--voxel-diagonal" in args:
        i = args.index("--voxel-diagonal"); diag = float(args[i + 1]); del args[i:i + 2]
    misses_wanted = "--misses" in args
    if misses_wanted:
        args.remove("--misses")
    lesions, patients, cohort = args
    truth = rows(os.path.join(cohort, "truth_followup.csv"))
    truthp = rows(os.path.join(cohort, "truth_followup_patients.csv"))
    ours = {(r["patient_id"], r["lesion_id"], float(r["timepoint"])): r for r in rows(lesions)}
    oursp = {(r["patient_id"], float(r["timepoint"])): r for r in rows(patients)}

    confusion, missing, dia_ok, dia_n, dia_worst = Counter(), [], 0, 0, 0.0
    misses = []
    for t in truth:
        key = (t["patient_id"], t["lesion_id"], float(t["timepoint"]))
        o = ours.get(key)
        if t["present"] == "1" and o is not None and diag is not None:
            d = abs(float(o["diameter_mm"]) - float(t["diameter_mm"]))
            dia_n += 1; dia_ok += d <= diag; dia_worst = max(dia_worst, d)
        if float(t["timepoint"]) <= 0 or not t["category"]:
            continue
        if o is None:
            missing.append(key); continue
        confusion[(t["category"], o["category"])] += 1
        if t["category"] != o["category"]:
            misses.append((t, o))
    cats = ["CR", "PR", "SD", "PD", "NEW"]
    n = sum(confusion.values()); agree = sum(v for (a, b), v in confusion.items() if a == b)
    print("per-lesion categories at follow-ups: rows = truth, columns = lesionmap response")
    print("      " + "".join(f"{c:>6}" for c in cats))
    for a in cats:
        print(f"{a:>6}" + "".join(f"{confusion[(a, b)]:>6}" for b in cats))
    print(f"agreement {agree}/{n} = {100 * agree / max(n, 1):.1f} %; truth rows without a response row: {len(missing)}")
    if misses_wanted and misses:
        tbase = {(r["patient_id"], r["lesion_id"]): r for r in truth if float(r["timepoint"]) == 0}
        obase = {(r["patient_id"], r["lesion_id"]): r for r in rows(lesions) if float(r["timepoint"]) == 0}
        print("disagreements (RECIST diameter mm: truth baseline -> now, measured baseline -> now):")
        for t, o in misses:
            k = (t["patient_id"], t["lesion_id"])
            tb, ob = tbase.get(k), obase.get(k)
            print(f"  {k[0]} {k[1]} day {t['timepoint']} {t['location']}: truth {t['category']} "
                  f"{tb['recist_measure_mm'] if tb else '-'} -> {t['recist_measure_mm']} ({t['measure_change_pct']} %), "
                  f"measured {o['category']} {ob['recist_diameter_mm'] if ob else '-'} -> {o['recist_diameter_mm']} "
                  f"({o['diameter_change_pct']} %, from nadir {o.get('diameter_change_from_nadir_pct', '')} %)")
    if diag is not None:
        print(f"diameters within {diag:.3f} mm of the truth: {dia_ok}/{dia_n}; largest difference {dia_worst:.3f} mm")

    pc, absc = Counter(), Counter()
    for t in truthp:
        if float(t["timepoint"]) <= 0:
            continue
        o = oursp.get((t["patient_id"], float(t["timepoint"])))
        if o is None:
            continue
        pc[(t["recist"], o["recist"])] += 1
        for who, a, b in (("truth", t["abscopal_any_lesion"], t["abscopal_recist"]),
                          ("ours", o["abscopal_any_lesion"], o["abscopal_recist"])):
            if a != "" and b != "":
                absc[(who, "evaluable")] += 1
                absc[(who, "disagree")] += a != b
    m = sum(pc.values()); pa = sum(v for (a, b), v in pc.items() if a == b)
    print(f"patient RECIST 1.1 agreement {pa}/{m}; disagreements: " +
          ", ".join(f"truth {a} vs {b}: {v}" for (a, b), v in sorted(pc.items()) if a != b))
    for who in ("truth", "ours"):
        print(f"abscopal definitions ({who}): evaluable at {absc[(who, 'evaluable')]} patient follow-ups, "
              f"disagree at {absc[(who, 'disagree')]}")
    return 0 if n and agree / n >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
