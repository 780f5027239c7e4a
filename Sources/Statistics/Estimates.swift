import Foundation

/// A two-sided confidence interval at a stated level.
public struct ConfidenceInterval: Sendable, Hashable, Codable, CustomStringConvertible {
    public var lower: Double
    public var upper: Double
    /// Coverage, e.g. 0.95.
    public var level: Double

    public init(lower: Double, upper: Double, level: Double) {
        self.lower = lower
        self.upper = upper
        self.level = level
    }

    /// Whether `x` lies in [lower, upper].
    public func contains(_ x: Double) -> Bool { x >= lower && x <= upper }

    public var description: String { "[\(lower), \(upper)] (\(Int((level * 100).rounded())) %)" }
}

/// A point estimate with its confidence interval and, when a test goes with it, a p-value.
public struct Estimate: Sendable, Hashable, Codable {
    public var value: Double
    public var interval: ConfidenceInterval
    /// Standard error on the scale the interval was built on, when there is one.
    public var standardError: Double?
    /// Two-sided p-value of the null hypothesis the estimate is tested against, when there is one.
    public var pValue: Double?

    public init(value: Double, interval: ConfidenceInterval, standardError: Double? = nil, pValue: Double? = nil) {
        self.value = value
        self.interval = interval
        self.standardError = standardError
        self.pValue = pValue
    }

    /// An estimate with nothing known: NaN value and interval.
    public static func undefined(level: Double) -> Estimate {
        Estimate(value: .nan, interval: ConfidenceInterval(lower: .nan, upper: .nan, level: level))
    }
}

/// One coefficient of a regression model, lifelines style: the coefficient with its standard error,
/// Wald test and confidence interval, and its exponential (hazard ratio for Cox, odds ratio for logistic
/// regression) with the exponentiated interval.
public struct RegressionCoefficient: Sendable, Hashable, Codable {
    public var name: String
    public var coefficient: Double
    public var standardError: Double
    public var coefficientInterval: ConfidenceInterval
    /// Wald statistic coefficient / standard error.
    public var z: Double
    /// Two-sided Wald p-value.
    public var pValue: Double

    /// The coefficient with a Wald interval at `level` (normal critical value).
    public init(name: String, coefficient: Double, standardError: Double, level: Double) {
        let z = Distributions.normalCritical(level: level)
        self.name = name
        self.coefficient = coefficient
        self.standardError = standardError
        self.coefficientInterval = ConfidenceInterval(lower: coefficient - z * standardError,
                                                      upper: coefficient + z * standardError, level: level)
        self.z = coefficient / standardError
        self.pValue = Distributions.twoSidedNormalP(coefficient / standardError)
    }

    /// exp(coefficient): the hazard ratio (Cox) or odds ratio (logistic) per unit.
    public var ratio: Double { Foundation.exp(coefficient) }

    /// The exponentiated interval.
    public var ratioInterval: ConfidenceInterval {
        ConfidenceInterval(lower: Foundation.exp(coefficientInterval.lower),
                           upper: Foundation.exp(coefficientInterval.upper), level: coefficientInterval.level)
    }

    /// The ratio with its interval and Wald p-value.
    public var ratioEstimate: Estimate {
        Estimate(value: ratio, interval: ratioInterval, standardError: standardError, pValue: pValue)
    }

    /// The ratio for `units` units of the covariate (e.g. one standard deviation), with its interval.
    public func ratio(perUnits units: Double) -> Estimate {
        Estimate(value: Foundation.exp(coefficient * units),
                 interval: ConfidenceInterval(lower: Foundation.exp(Swift.min(coefficientInterval.lower * units, coefficientInterval.upper * units)),
                                              upper: Foundation.exp(Swift.max(coefficientInterval.lower * units, coefficientInterval.upper * units)),
                                              level: coefficientInterval.level),
                 standardError: standardError * abs(units), pValue: pValue)
    }
}

/// A chi-square test: statistic, degrees of freedom and upper-tail p-value.
public struct ChiSquareTest: Sendable, Hashable, Codable {
    public var statistic: Double
    public var degreesOfFreedom: Int
    public var pValue: Double

    public init(statistic: Double, degreesOfFreedom: Int) {
        self.statistic = statistic
        self.degreesOfFreedom = degreesOfFreedom
        self.pValue = Distributions.chiSquareSurvival(statistic, degreesOfFreedom: Double(degreesOfFreedom))
    }
}

/// Errors of the statistical procedures; each says what was wrong with the input.
public struct StatisticsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
