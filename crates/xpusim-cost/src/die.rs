//! Dies per wafer and die yield.

use serde::Serialize;

/// Gross dies on a round wafer of diameter `d` for a die of area `a` (mm, mm²), with the
/// standard edge-loss correction (de Vries, "Investigation of gross die per wafer
/// formulas", IEEE TSM 2005; Hennessy & Patterson, CA:AQA ch. 1):
/// `π (d/2)² / A − π d / √(2A)`, floored, never negative.
pub fn dies_per_wafer(diameter_mm: f64, area_mm2: f64) -> f64 {
    if !(area_mm2 > 0.0 && diameter_mm > 0.0) {
        return 0.0;
    }
    let r = diameter_mm / 2.0;
    let n = std::f64::consts::PI * r * r / area_mm2
        - std::f64::consts::PI * diameter_mm / (2.0 * area_mm2).sqrt();
    n.floor().max(0.0)
}

/// Random-defect yield models; `A·D0` is the expected number of defects per die.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "model")]
pub enum YieldModel {
    /// Murphy (Proc. IEEE 1964): `((1 − e^{−AD}) / AD)²`, a triangular defect-density
    /// distribution over wafers; the usual foundry quick estimate.
    Murphy,
    /// Stapper's negative binomial (IBM J. R&D 1983): `(1 + AD/α)^{−α}`; α is the defect
    /// clustering parameter (α → ∞ gives Poisson `e^{−AD}`).
    NegativeBinomial { alpha: f64 },
}

impl YieldModel {
    /// Fraction of dies with no killer defect; in (0, 1] for any area ≥ 0.
    pub fn die_yield(self, area_mm2: f64, d0_per_cm2: f64) -> f64 {
        let ad = area_mm2.max(0.0) / 100.0 * d0_per_cm2.max(0.0);
        if ad < 1e-12 {
            return 1.0;
        }
        match self {
            YieldModel::Murphy => {
                let y = -(-ad).exp_m1() / ad;
                y * y
            }
            YieldModel::NegativeBinomial { alpha } => (1.0 + ad / alpha).powf(-alpha),
        }
    }

    pub fn name(self) -> String {
        match self {
            YieldModel::Murphy => "murphy".into(),
            YieldModel::NegativeBinomial { alpha } => format!("negative-binomial(alpha={alpha})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gross_dies_match_the_textbook_example() {
        // H&P 6th ed. example: 1.5 cm × 1.5 cm die on a 30 cm wafer: 314.16 − 44.43 =
        // 269.7 (the book rounds to 270; whole dies only, so 269).
        assert_eq!(dies_per_wafer(300.0, 225.0), 269.0);
        assert_eq!(dies_per_wafer(300.0, 1e6), 0.0);
    }

    #[test]
    fn yields_fall_with_area_and_agree_for_tiny_dies() {
        let m = YieldModel::Murphy;
        let nb = YieldModel::NegativeBinomial { alpha: 3.0 };
        assert!(m.die_yield(800.0, 0.1) < m.die_yield(100.0, 0.1));
        assert!(nb.die_yield(800.0, 0.1) < nb.die_yield(100.0, 0.1));
        // For AD → 0 every model tends to e^{-AD} ≈ 1 − AD.
        let (a, d) = (1.0, 0.1);
        assert!((m.die_yield(a, d) - (1.0 - 0.001)).abs() < 1e-6);
        assert!((nb.die_yield(a, d) - (1.0 - 0.001)).abs() < 1e-6);
        // Murphy for AD = 1: ((1 − e^{-1}) / 1)² = 0.39958.
        assert!((m.die_yield(1000.0, 0.1) - 0.399_576).abs() < 1e-5);
    }
}
