// swift-tools-version:6.1
import PackageDescription

// LesionMap: lesion-by-lesion radiomics for the whole disease of a cancer patient.
// Data flows one way: images -> lesions -> features -> scores -> patient aggregates -> plans -> reports.
// C and C++ libraries are reached only through their shim targets (C* plus a Swift face).
let package = Package(
    name: "LesionMap",
    products: [

    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Images: geometry, volumes, masks, morphology.
        .target(name: "ImagingCore"),
        .testTarget(name: "ImagingCoreTests", dependencies: ["ImagingCore"]),
    ],
    swiftLanguageModes: [.v5]
)
