import Foundation

/// A variable split into two groups (e.g. above vs at-or-below the median) and the group comparison.
public struct DichotomisedAssociation: Sendable {
    /// What the split is, e.g. "median" or "q4_vs_q1".
    public var split: String
    /// Values above `cutoff` form the high group.
    public var cutoff: Double
    public var highCount: Int
    public var lowCount: Int
    /// High vs low group: hazard ratio (survival) or odds ratio (binary) per `ratio`; nil when it cannot be fitted.
    public var coefficient: RegressionCoefficient?
    /// Log-rank p-value (survival endpoints only).
    public var logRankP: Double?
}

/// How one patient-level variable relates to right-censored survival: Cox per unit and per SD, the
/// likelihood-ratio test, median and quartile splits, and Harrell's C.
public struct SurvivalAssociation: Sendable {
    public var subjectCount: Int
    public var eventCount: Int
    /// Cox per unit of the variable (`ratio` = HR per unit); nil when the fit fails (see `problems`).
    public var perUnit: RegressionCoefficient?
    /// Sample standard deviation of the variable (n − 1).
    public var standardDeviation: Double
    /// HR per standard deviation with its interval and Wald p.
    public var perSD: Estimate?
    public var likelihoodRatioTest: ChiSquareTest?
    /// High (> median) vs low.
    public var medianSplit: DichotomisedAssociation?
    /// Fourth quartile (≥ Q3) vs first (≤ Q1), the middle half left out.
    public var quartiles: DichotomisedAssociation?
    /// The direction of the risk score used for `concordance`: the risk score is orientation × value. By default
    /// +1 when higher values go with higher hazard in the Cox fit, −1 otherwise (see `analyse`).
    public var orientation: Double
    /// Harrell's C of orientation × value.
    public var concordance: Concordance
    /// Why a part could not be computed, for reports.
    public var problems: [String]

    /// Analyses `values` (finite, one per subject) against `data`.
    ///
    /// `orientation` fixes the direction of the risk score (e.g. +1 for a model's out-of-sample risk). By default
    /// it is the sign of the Cox coefficient on these data (when the fit fails, the sign of the Cox score at β = 0,
    /// `Orientation.survival`, which is the same sign whenever the fit exists). This is *not* a guarantee that
    /// C ≥ 0.5: the Cox coefficient weighs subjects by their distance from the risk-set mean, while C counts
    /// only the order within pairs, so with a weak association (or a few extreme values) the fitted sign and the
    /// side of 0.5 that C falls on can disagree, and C < 0.5 is then reported as it is. What the default does
    /// guarantee is that the direction is chosen on the same data C is computed on, which biases C upwards
    /// (an in-sample, optimistic estimate; see `AggregatorComparison` for the optimism-corrected value).
    public static func analyse(_ values: [Double], _ data: SurvivalData, level: Double = 0.95,
                               orientation fixedOrientation: Double? = nil) throws -> SurvivalAssociation {
        guard values.count == data.count else {
            throw StatisticsError("\(values.count) values for \(data.count) subjects")
        }
        var problems: [String] = []
        var perUnit: RegressionCoefficient?, lr: ChiSquareTest?
        do {
            let m = try CoxRegression.fit(data, covariate: values, name: "value", level: level)
            perUnit = m.coefficients[0]
            lr = m.likelihoodRatioTest
        } catch {
            problems.append("Cox per unit: \(error)")
        }
        let sd = sampleStandardDeviation(values)
        let orientation: Double = fixedOrientation
            ?? perUnit.map { $0.coefficient < 0 ? -1 : 1 }
            ?? Orientation.survival(data, values: values)
        let split = { (name: String) -> DichotomisedAssociation? in
            guard let (cutoff, members, isHigh) = dichotomise(values, name) else {
                problems.append("\(name) split: one group is empty")
                return nil
            }
            let sub = data.subset(members)
            let highCount = isHigh.filter { $0 }.count
            var result = DichotomisedAssociation(split: name, cutoff: cutoff, highCount: highCount,
                                                 lowCount: members.count - highCount)
            do {
                result.coefficient = try CoxRegression.fit(sub, covariate: isHigh.map { $0 ? 1 : 0 }, name: name, level: level)
                    .coefficients[0]
            } catch {
                problems.append("\(name) split Cox: \(error)")
            }
            result.logRankP = try? LogRankTest.test(sub, groups: isHigh.map { $0 ? 1 : 0 }).test.pValue
            return result
        }
        return SurvivalAssociation(
            subjectCount: data.count, eventCount: data.eventCount, perUnit: perUnit, standardDeviation: sd,
            perSD: perUnit.map { $0.ratio(perUnits: sd) }, likelihoodRatioTest: lr,
            medianSplit: split("median"), quartiles: split("q4_vs_q1"),
            orientation: orientation,
            concordance: try Concordance.harrell(data, risk: values.map { orientation * $0 }),
            problems: problems)
    }
}

/// How one patient-level variable relates to a binary outcome: logistic regression per unit and per SD,
/// median and quartile splits, and the ROC AUC with DeLong's interval.
public struct BinaryAssociation: Sendable {
    public var subjectCount: Int
    public var positiveCount: Int
    /// Logistic regression per unit (`ratio` = odds ratio per unit); nil when the fit fails.
    public var perUnit: RegressionCoefficient?
    public var standardDeviation: Double
    public var perSD: Estimate?
    public var likelihoodRatioTest: ChiSquareTest?
    public var medianSplit: DichotomisedAssociation?
    public var quartiles: DichotomisedAssociation?
    /// The direction of the score used for `roc`: the score is orientation × value. By default +1 when higher
    /// values go with the positive outcome in the logistic fit, −1 otherwise (see `analyse`).
    public var orientation: Double
    /// AUC of orientation × value.
    public var roc: ROCAnalysis
    public var problems: [String]

    /// Analyses `values` (finite, one per subject) against `labels`; `orientation` as for `SurvivalAssociation`
    /// (by default the sign of the logistic coefficient; when the fit fails, e.g. under complete separation, the
    /// side of 0.5 of the raw AUC). As for the C-index this does not make AUC ≥ 0.5 certain: the logistic sign
    /// and the AUC's side of 0.5 can disagree for a weak association, and such an AUC is reported below 0.5.
    public static func analyse(_ values: [Double], _ labels: [Bool], level: Double = 0.95,
                               orientation fixedOrientation: Double? = nil) throws -> BinaryAssociation {
        guard values.count == labels.count else {
            throw StatisticsError("\(values.count) values for \(labels.count) subjects")
        }
        var problems: [String] = []
        var perUnit: RegressionCoefficient?, lr: ChiSquareTest?
        do {
            let m = try LogisticRegression.fit(labels: labels, covariates: [values], names: ["value"], level: level)
            perUnit = m.coefficients[0]
            lr = m.likelihoodRatioTest
        } catch {
            problems.append("logistic per unit: \(error)")
        }
        let sd = sampleStandardDeviation(values)
        let orientation: Double
        if let fixedOrientation {
            orientation = fixedOrientation
        } else if let b = perUnit?.coefficient {
            orientation = b < 0 ? -1 : 1
        } else {
            // Without a fit (e.g. complete separation) orient by the raw AUC.
            orientation = ((try? ROC.analyse(labels: labels, scores: values).auc) ?? 1) < 0.5 ? -1 : 1
        }
        let split = { (name: String) -> DichotomisedAssociation? in
            guard let (cutoff, members, isHigh) = dichotomise(values, name) else {
                problems.append("\(name) split: one group is empty")
                return nil
            }
            let highCount = isHigh.filter { $0 }.count
            var result = DichotomisedAssociation(split: name, cutoff: cutoff, highCount: highCount,
                                                 lowCount: members.count - highCount)
            do {
                result.coefficient = try LogisticRegression.fit(
                    labels: members.map { labels[$0] }, covariates: [isHigh.map { $0 ? 1 : 0 }], names: [name], level: level)
                    .coefficients[0]
            } catch {
                problems.append("\(name) split logistic: \(error)")
            }
            return result
        }
        return BinaryAssociation(
            subjectCount: labels.count, positiveCount: labels.filter { $0 }.count, perUnit: perUnit,
            standardDeviation: sd, perSD: perUnit.map { $0.ratio(perUnits: sd) }, likelihoodRatioTest: lr,
            medianSplit: split("median"), quartiles: split("q4_vs_q1"),
            orientation: orientation,
            roc: try ROC.analyse(labels: labels, scores: values.map { orientation * $0 }, level: level),
            problems: problems)
    }
}

/// The groups of a split: "median" (all subjects; high = above the median) or "q4_vs_q1" (subjects at or
/// below Q1 or at or above Q3; high = the top quartile). Nil when a group would be empty.
func dichotomise(_ values: [Double], _ split: String) -> (cutoff: Double, members: [Int], isHigh: [Bool])? {
    let sorted = values.sorted()
    let cutoff: Double, members: [Int], isHigh: [Bool]
    if split == "median" {
        cutoff = sortedQuantile(sorted, 0.5)
        members = Array(values.indices)
        isHigh = values.map { $0 > cutoff }
    } else {
        let q1 = sortedQuantile(sorted, 0.25)
        cutoff = sortedQuantile(sorted, 0.75)
        members = values.indices.filter { values[$0] <= q1 || values[$0] >= cutoff }
        isHigh = members.map { values[$0] >= cutoff }
    }
    let high = isHigh.filter { $0 }.count
    return high > 0 && high < members.count ? (cutoff, members, isHigh) : nil
}

/// Sample standard deviation (n − 1 denominator); NaN below two values.
public func sampleStandardDeviation(_ x: [Double]) -> Double {
    guard x.count > 1 else { return .nan }
    let m = x.reduce(0, +) / Double(x.count)
    return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)).squareRoot()
}
