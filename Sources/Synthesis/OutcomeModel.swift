import Foundation

/// The generative model of patient and lesion outcomes, driven by the hidden infiltration.
///
/// Linear predictor (log hazard ratio of progression), with V the total nominal tumour volume (ml):
/// - `.minimum`: η = 4 (0.33 − min u) + 3 (sd u − 0.12) + 0.3 (ln(1 + V/10) − 1)
/// - `.mean`:    η = 4 (0.52 − mean u)                   + 0.3 (ln(1 + V/10) − 1)
/// - `.maximum`: η = 4 (0.70 − max u)                    + 0.3 (ln(1 + V/10) − 1)
/// (sd is the population SD across the patient's lesions, 0 for one lesion; the centring
/// constants keep η near 0 on average under every driver, so event rates are comparable.)
///
/// Times (months), with E, E', E'' ~ Exp(1) independent:
/// - PFS: Weibull, shape 1.3, scale 9, hazard × e^η:  T = 9 (E / e^η)^(1/1.3)
/// - OS = T + post-progression survival 12 (E' / e^(0.6η))^(1/1.2)  (longer than and correlated with PFS)
/// - Censoring C = min(U(6, 30), 40 E'') independent of everything; pfs = min(T, C), os = min(OS, C),
///   events are T ≤ C and OS ≤ C (about 66-68 % PFS and 37-41 % OS events; median PFS ≈ 5, OS ≈ 9 months).
/// Responses (latent score s, higher = better; categories CR > 1.5, PR > 0.4, SD > −0.6, else PD):
/// - best_response: s = −η + N(0, 1)
/// - abscopal_response: Bernoulli(logistic(−1 − 1.2 η)), only when some lesion is not irradiated
/// - lesion_response: s = 3.5 (u − 0.5) + 1.0 · irradiated + N(0, 0.8²)
public enum SyntheticOutcomeModel {
    /// The linear predictor η of a patient's lesions under `driver`.
    public static func linearPredictor(_ patient: SyntheticPatient, driver: SyntheticOutcomeDriver) -> Double {
        let burden = 0.3 * (Foundation.log(1 + patient.tumourBurdenML / 10) - 1)
        switch driver {
        case .minimum: return 4 * (0.33 - patient.minInfiltration) + 3 * (patient.sdInfiltration - 0.12) + burden
        case .mean: return 4 * (0.52 - patient.meanInfiltration) + burden
        case .maximum: return 4 * (0.70 - patient.maxInfiltration) + burden
        }
    }

    /// Fills the patient's outcome and the lesions' responses.
    static func simulate(_ patient: inout SyntheticPatient, driver: SyntheticOutcomeDriver,
                         rng: inout SynthesisRandom) {
        let eta = linearPredictor(patient, driver: driver)
        let t = 9 * Foundation.pow(rng.exponential() / Foundation.exp(eta), 1 / 1.3)
        let pps = 12 * Foundation.pow(rng.exponential() / Foundation.exp(0.6 * eta), 1 / 1.2)
        let censor = min(rng.uniform(6, 30), 40 * rng.exponential())
        let os = t + pps
        let best = SyntheticResponse(score: -eta + rng.normal())
        let abscopalDraw = rng.uniform()
        let abscopal: Bool? = patient.lesions.contains { !$0.irradiated }
            ? abscopalDraw < 1 / (1 + Foundation.exp(-(-1 - 1.2 * eta))) : nil
        for n in patient.lesions.indices {
            let l = patient.lesions[n]
            let s = 3.5 * (l.infiltration - 0.5) + (l.irradiated ? 1 : 0) + 0.8 * rng.normal()
            patient.lesions[n].response = SyntheticResponse(score: s)
            patient.lesions[n].responseScore = s
        }
        patient.outcome = SyntheticOutcome(
            pfsMonths: min(t, censor), pfsEvent: t <= censor, osMonths: min(os, censor), osEvent: os <= censor,
            bestResponse: best, abscopalResponse: abscopal, linearPredictor: eta)
    }
}
