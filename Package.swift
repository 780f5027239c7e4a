// swift-tools-version:6.1
import Foundation
import PackageDescription

// LesionMap: lesion-by-lesion radiomics for the whole disease of a cancer patient.
// Data flows one way: images -> lesions -> features -> scores -> patient aggregates -> plans -> reports.
// C and C++ libraries are reached only through their shim targets (a C module plus a small Swift face);
// nothing above a shim sees a C pointer.
//
// Each block below is owned by one area; add targets right after the anchor comment of your area.
// The radiomics engine's vector loops (FFT butterflies, texture counts) are compiled for AVX2 and FMA
// when the build machine has them (x86-64 Linux; `LESIONMAP_GENERIC_CPU=1` turns it off, e.g. to build
// for other machines). Swift does not contract multiply-adds, so feature values are the same bit for bit
// either way (checked on every feature of both benchmark GTVs under four settings).
let hostVectorSettings: [SwiftSetting] = {
    #if arch(x86_64) && os(Linux)
    guard ProcessInfo.processInfo.environment["LESIONMAP_GENERIC_CPU"] != "1",
          let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flags = cpu.split(separator: "\n").first(where: { $0.hasPrefix("flags") })?.split(separator: " ")
    else { return [] }
    // What `-target-cpu haswell` assumes (Linux reports LZCNT as "abm").
    let has = Set(flags)
    let haswell: Set<Substring> = ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "popcnt"]
    guard haswell.isSubset(of: has), has.contains("abm") || has.contains("lzcnt") else { return [] }
    return [.unsafeFlags(["-target-cpu", "haswell"])]
    #else
    return []
    #endif
}()

/// Swift 6 language mode (strict concurrency checked by the compiler) for the targets `extract` runs in parallel:
/// the image and store I/O below it, the engine, and the pipeline that drives them on a `WorkPool`.
let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "LesionMap",
    products: [
        // [products]
        .executable(name: "lesionmap", targets: ["lesionmap"]),
        // The DCMTK shim as a shared library (libLesionMapDCMTK.so) beside the binary, loaded by the first DICOM
        // read or write (see CDCMTK below): `swift build --product LesionMapDCMTK`, and `swift build --build-tests`.
        .library(name: "LesionMapDCMTK", type: .dynamic, targets: ["CDCMTKLibrary"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // [shims]
        // DCMTK (dcmdata with JPEG, JPEG-LS and RLE decoders): a pure C header over a C++ implementation.
        // DCMTK and the libraries it pulls in (libxml2, ICU, IJG, CharLS) cost every process about 6 ms of loading,
        // so they are not linked: CDCMTK is C trampolines that load the implementation (CDCMTKLibrary, the
        // LesionMapDCMTK product) with dlopen at the first call and return its functions' results unchanged.
        .target(name: "CDCMTK", linkerSettings: [.linkedLibrary("dl")]),
        // The C++ implementation of include/cdcmtk.h, linked only into libLesionMapDCMTK.so. `-static-stdlib` and
        // `-nostartfiles` keep the Swift runtime out of it (swiftc would otherwise add swiftrt.o and libswiftCore);
        // `-Bsymbolic-functions` binds its own calls of cdcm_* to itself, not to the binary's trampolines.
        .target(name: "CDCMTKLibrary", publicHeadersPath: ".", cxxSettings: [.headerSearchPath("../CDCMTK/include")],
                linkerSettings: [.linkedLibrary("dcmdata"), .linkedLibrary("dcmjpeg"), .linkedLibrary("dcmjpls"),
                                 .linkedLibrary("dcmimgle"), .linkedLibrary("oflog"), .linkedLibrary("ofstd"),
                                 .linkedLibrary("stdc++"),
                                 .unsafeFlags(["-static-stdlib", "-nostartfiles", "-Xlinker", "-Bsymbolic-functions"])]),
        // HDF5 (serial): files, groups, datasets, attributes; all calls serialised by one lock.
        // Loaded on first use (dlopen), not linked: `features` never touches a store (see CHDF5.h). CHDF5.c is
        // compiled against Debian's hdf5.h (libhdf5-dev) for its types; the header Swift sees does not include it.
        .target(name: "CHDF5", path: "Sources/CHDF5", cSettings: [.unsafeFlags(["-I/usr/include/hdf5/serial"])],
                linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "HDF5Support", dependencies: ["CHDF5"], swiftSettings: swift6),
        .testTarget(name: "HDF5SupportTests", dependencies: ["HDF5Support", "TestSupport"]),
        // OpenBLAS + LAPACKE: dense matrix products, symmetric eigendecomposition, solves, inverse.
        // Loaded on first use (dlopen), not linked: most commands make no BLAS call (see COpenBLAS.h).
        .target(name: "COpenBLAS", path: "Sources/COpenBLAS", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "LinearAlgebra", dependencies: ["COpenBLAS"]),
        .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra"]),
        // zlib: gzip/zlib streams and checksums (.nii.gz, NRRD gzip, PNG).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib"),
        // libdeflate: whole-buffer gzip decompression (reading .nii.gz and gzip NRRD files), faster than zlib.
        .systemLibrary(name: "CDeflate", path: "Sources/CDeflate", pkgConfig: "libdeflate"),
        .target(name: "ZlibSupport", dependencies: ["CZlib", "CDeflate"], swiftSettings: swift6),
        .testTarget(name: "ZlibSupportTests", dependencies: ["ZlibSupport"]),

        // Parallel work on a fixed set of threads: a pipeline of items (a cohort's patients) whose nested loops
        // (each patient's lesions) share the same threads. Swift 6 language mode: the compiler checks it.
        .target(name: "WorkPool", swiftSettings: swift6),
        .testTarget(name: "WorkPoolTests", dependencies: ["WorkPool"], swiftSettings: [.swiftLanguageMode(.v6)]),

        // Images: geometry, volumes, masks, morphology, connected components.
        // glibc's allocator settings (mallopt) for `HeapReuse`.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .target(name: "ImagingCore", dependencies: ["CMalloc"], swiftSettings: swift6),
        .testTarget(name: "ImagingCoreTests", dependencies: ["ImagingCore"]),
        // [imageio]
        // Image files: NIfTI-1 and NRRD, geometry in LPS as ITK/SimpleITK report it.
        .target(name: "ImageIO", dependencies: ["ImagingCore", "ZlibSupport"], swiftSettings: swift6),
        .testTarget(name: "ImageIOTests", dependencies: ["ImageIO", "TestSupport"]),

        // [dicom]
        // DICOM in and out: CT/PET series, RTSTRUCT and SEG to masks, scan metadata, RTSTRUCT/SEG export.
        .target(name: "DICOMIO", dependencies: ["CDCMTK", "ImagingCore"]),
        .testTarget(name: "DICOMIOTests", dependencies: ["DICOMIO", "Cohort", "ImageIO", "TestSupport"]),

        // [cohort]
        // Lesions: cohort manifests (lesions.csv, patients.csv) and loading patients' images and lesion masks.
        .target(name: "Cohort", dependencies: ["ImagingCore", "ImageIO", "DICOMIO", "LesionMatching"]),
        .testTarget(name: "CohortTests", dependencies: ["Cohort", "ImageIO", "DICOMIO", "TestSupport"]),
        // Lesions over time: rigid alignment of a follow-up's lesion centroids onto the baseline's (consensus over
        // pairs, ICP, Horn) and Hungarian matching with a gating distance; new lesions named N1, N2, ...
        .target(name: "LesionMatching", dependencies: ["ImagingCore"]),
        .testTarget(name: "LesionMatchingTests", dependencies: ["LesionMatching", "ImagingCore"]),

        // [perturbation]
        // Perturbed lesions: a lesion's image and mask under growth, noise, translation, rotation and contour
        // randomisation (Zwanenburg et al. 2019), for feature robustness (ICC) before features are computed.
        .target(name: "Perturbation", dependencies: ["ImagingCore"]),
        .testTarget(name: "PerturbationTests", dependencies: ["Perturbation", "ImagingCore"]),

        // [radiomics]
        // Features: IBSI 1 preprocessing and feature families for a lesion and its peritumoral ring.
        .target(name: "Radiomics", dependencies: ["ImagingCore", "Filters", "WorkPool"], swiftSettings: hostVectorSettings + swift6),
        .testTarget(name: "RadiomicsTests", dependencies: ["Radiomics", "ImageIO", "TestSupport"]),

        // [filters]
        // Filtered images: IBSI 2 convolutional filters (mean, LoG, Laws, Gabor, wavelets, Simoncelli),
        // boundary conditions and rotation invariance, response maps over a lesion's neighbourhood.
        .target(name: "Filters", dependencies: ["ImagingCore"], swiftSettings: hostVectorSettings + swift6),
        .testTarget(name: "FiltersTests", dependencies: ["Filters", "ImageIO", "TestSupport"]),

        // [featurestore]
        // The cohort's HDF5 feature store (h5py-readable), atomic writes, resumable per-patient extraction writer.
        .target(name: "FeatureStore", dependencies: ["HDF5Support"], swiftSettings: swift6),
        .testTarget(name: "FeatureStoreTests", dependencies: ["FeatureStore", "HDF5Support", "TestSupport"]),

        // [harmonisation]
        // Harmonisation: ComBat (Johnson 2007, as neuroCombat) across scanners, batch models recorded in the store.
        .target(name: "Harmonisation", dependencies: ["FeatureStore", "LinearAlgebra"]),
        .testTarget(name: "HarmonisationTests", dependencies: ["Harmonisation", "FeatureStore", "TestSupport"]),

        // [scoring]
        // Scores: signature files (CD8-style linear scores over lesion and ring features) and scoring.
        .target(name: "Signatures", resources: [.copy("Resources/cd8-reference-synthetic.json")]),
        .testTarget(name: "SignaturesTests", dependencies: ["Signatures", "LinearAlgebra", "TestSupport"]),

        // [aggregation]
        // Patient aggregates: lesion values to one patient value (mean, min, entropy, volume-weighted, ...).
        .target(name: "Aggregation"),
        .testTarget(name: "AggregationTests", dependencies: ["Aggregation"]),
        // Statistics: Cox (Efron), Kaplan-Meier, log-rank, Harrell's C, ROC AUC (DeLong), logistic regression, bootstrap.
        .target(name: "Statistics", dependencies: ["LinearAlgebra"]),
        .testTarget(name: "StatisticsTests", dependencies: ["Statistics"]),
        // Attention-based multiple-instance learning over lesion feature vectors (Cox or logistic loss), with
        // repeated k-fold cross-validation for out-of-sample patient risks and per-lesion attention.
        .target(name: "MultipleInstance", dependencies: ["LinearAlgebra", "Statistics"]),
        .testTarget(name: "MultipleInstanceTests", dependencies: ["MultipleInstance", "Statistics", "Synthesis"]),

        // [response]
        // Response over follow-up scans: lesion diameters from masks (RECIST 1.1 long and short axis, volume),
        // RECIST 1.1, iRECIST, dissociated response, hyperprogression (TGR ratio) and abscopal response.
        .target(name: "Response", dependencies: ["ImagingCore"]),
        .testTarget(name: "ResponseTests", dependencies: ["Response", "ImagingCore"]),

        // [planning]
        // Plans: lesion scores to radiotherapy categories (ablative SBRT, low-dose RT, no RT) under a policy.
        .target(name: "Planning", resources: [.copy("Resources/default-policy.json")]),
        .testTarget(name: "PlanningTests", dependencies: ["Planning"]),

        // [reporting]
        // Reports: self-contained HTML for tumour boards (tables, inline SVG plots, provenance, disclaimer).
        .target(name: "Reporting", dependencies: ["ImagingCore", "ZlibSupport"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "ImagingCore", "ZlibSupport", "TestSupport"]),

        // [synthesis]
        // Synthetic cohorts: CT-like volumes, lesion label maps and outcomes driven by a hidden infiltration.
        .target(name: "Synthesis", dependencies: ["ImagingCore", "ImageIO"]),
        .testTarget(name: "SynthesisTests", dependencies: ["Synthesis", "ImageIO", "TestSupport"]),

        // [pipeline]
        // The chain, stage by stage: extraction into the store, scoring, aggregation, planning, reports.
        .target(name: "Pipeline", dependencies: ["ImagingCore", "ImageIO", "Cohort", "Radiomics", "FeatureStore",
                                                 "Signatures", "Aggregation", "Planning", "Reporting", "Synthesis",
                                                 "DICOMIO", "Statistics", "MultipleInstance", "LinearAlgebra", "Harmonisation",
                                                 "Perturbation", "Response", "WorkPool"],
                swiftSettings: swift6),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "FeatureStore", "Cohort", "ImageIO", "Radiomics", "Signatures", "Synthesis", "TestSupport",
                                                          "DICOMIO", "Planning", "Reporting",
                                                          "Aggregation", "Statistics", "MultipleInstance", "Harmonisation", "Response"]),
        // Fuzzing: a seeded random-mutation campaign over the NIfTI, NRRD, manifest and DICOM readers
        // (a short fixed-seed run always; the long run as a benchmark, see README "Benchmarks").
        .testTarget(name: "FuzzTests", dependencies: ["ImageIO", "Cohort", "DICOMIO", "Synthesis", "ImagingCore",
                                                      "ZlibSupport", "TestSupport"]),
        // The command-line tool: argument parsing only; all logic lives in the libraries above.
        .executableTarget(name: "lesionmap", dependencies: ["Pipeline", "ImagingCore", "Harmonisation", "Perturbation", "LesionMatching", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Shared by the test targets: locating ../shared/data (fail under CI, skip elsewhere), temp dirs.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
    ],
    swiftLanguageModes: [.v5]
)
