//! The flip analysis end to end on a small design set.

use std::sync::OnceLock;

use proptest::prelude::*;
use xpusim_flip::{
    analyse, analysis::pareto_front, era_suite, evaluate, parse_timeline, Design, Evaluation,
    Metric,
};

fn ev() -> &'static Evaluation {
    static EV: OnceLock<Evaluation> = OnceLock::new();
    EV.get_or_init(|| {
        let designs = ["h100-sxm", "xformer-asic", "host-cpu"]
            .iter()
            .map(|n| Design::new(xpusim_target::Target::load(n).unwrap()))
            .collect();
        evaluate(designs, &era_suite()).unwrap()
    })
}

#[test]
fn suite_covers_every_era() {
    let ours = era_suite();
    for era in xpusim_flip::ERAS {
        assert!(
            ours.iter().any(|w| w.era == *era),
            "no workload for era {era}"
        );
    }
}

#[test]
fn relative_scores_are_normalised_and_regret_is_their_complement() {
    let scen = xpusim_flip::builtin_scenarios();
    for metric in [Metric::Tco, Metric::Energy, Metric::Throughput] {
        let a = analyse(ev(), metric, &scen, &xpusim_flip::builtin_timeline()).unwrap();
        assert_eq!(a.names.len(), 3, "{metric:?}: {:?}", a.excluded);
        for e in 0..a.eras.len() {
            let col: Vec<f64> = a.era_eff.iter().map(|r| r[e]).collect();
            assert!(col.iter().all(|v| *v > 0.0 && *v <= 1.0 + 1e-12), "{col:?}");
            assert!(col.iter().any(|v| (*v - 1.0).abs() < 1e-12));
        }
        for s in &a.scenarios {
            let best = a.names.iter().position(|n| *n == s.best).unwrap();
            assert!((s.score[best] - 1.0).abs() < 1e-12);
            assert!(
                a.pareto[best],
                "{} best {} not on the front",
                s.name, s.best
            );
            for (sc, r) in s.score.iter().zip(&s.regret) {
                assert!((sc + r - 1.0).abs() < 1e-12);
            }
        }
        for (d, (w, _)) in a.worst.iter().enumerate() {
            assert!(*w <= a.geomean[d] + 1e-12);
        }
    }
}

#[test]
fn missing_generality_costs_the_asic_its_cnn_era() {
    let a = analyse(ev(), Metric::Tco, &xpusim_flip::builtin_scenarios(), &[]).unwrap();
    let asic = a.names.iter().position(|n| n == "xformer-asic").unwrap();
    let h100 = a.names.iter().position(|n| n == "h100-sxm").unwrap();
    let cnn = a.eras.iter().position(|e| e == "cnn").unwrap();
    let prefill = a.eras.iter().position(|e| e == "llm-prefill").unwrap();
    // Its convolutions run on the host CPU over PCIe: far behind on CNNs...
    assert!(a.era_eff[asic][cnn] < 0.3, "{}", a.era_eff[asic][cnn]);
    // ...while its 1.5x matrix rate wins compute-bound transformer prefill.
    assert!(a.era_eff[asic][prefill] > a.era_eff[h100][prefill]);
    assert_eq!(a.worst[asic].1, "cnn");
    assert!(a.lifetime.is_none(), "no timeline, no lifetime");
}

#[test]
fn break_even_freeze_answers_the_asic_question() {
    let llm_only = |years: &[i64], tail: &str| {
        let mut s = String::new();
        for (i, y) in years.iter().enumerate() {
            let mix = if i == 0 {
                "{ llm-prefill = 0.4, llm-decode = 0.6 }"
            } else {
                tail
            };
            s.push_str(&format!("[[timeline]]\nyear = {y}\nmix = {mix}\n"));
        }
        parse_timeline("t.toml", &s).unwrap()
    };
    let scen = xpusim_flip::builtin_scenarios();
    // The mix never changes: the transformer ASIC is the specialised pick, and it matches
    // the general GPU from the first year on.
    let frozen = llm_only(
        &[2024, 2025, 2026],
        "{ llm-prefill = 0.4, llm-decode = 0.6 }",
    );
    let a = analyse(ev(), Metric::Tco, &scen, &frozen).unwrap();
    let l = a.lifetime.as_ref().unwrap();
    let name = |j: usize| a.names[l.designs[j]].as_str();
    assert_eq!(name(l.specialised), "xformer-asic");
    assert_eq!(name(l.general), "h100-sxm");
    assert_eq!(l.freeze_to_beat_general[l.specialised], Some(1));
    // CNNs come back after the first year: it needs the LLM mix to hold longer, or never.
    let flip = llm_only(&[2024, 2025, 2026], "{ cnn = 0.5, llm-decode = 0.5 }");
    let b = analyse(ev(), Metric::Tco, &scen, &flip).unwrap();
    let lb = b.lifetime.as_ref().unwrap();
    let k = lb.freeze_to_beat_general[lb
        .designs
        .iter()
        .position(|d| b.names[*d] == "xformer-asic")
        .unwrap()];
    assert!(k.is_none_or(|k| k > 1), "{k:?}");
    assert!(lb.value_rel.iter().all(|v| *v > 0.0 && *v <= 1.0 + 1e-12));
}

proptest! {
    /// Every design that is best on some scenario column is on the front, and the front
    /// is never empty.
    #[test]
    fn pareto_front_keeps_every_column_best(rows in prop::collection::vec(prop::collection::vec(0.01f64..1.0, 3), 1..12)) {
        let front = pareto_front(&rows);
        prop_assert!(front.iter().any(|f| *f));
        for c in 0..3 {
            let top = rows.iter().map(|r| r[c]).fold(0.0, f64::max);
            let winners: Vec<usize> = (0..rows.len()).filter(|d| rows[*d][c] == top).collect();
            prop_assert!(winners.iter().any(|d| front[*d]));
        }
    }
}
