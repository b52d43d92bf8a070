//! The flip analysis end to end on a small design set.

use std::sync::OnceLock;

use proptest::prelude::*;
use xpusim_flip::{
    analyse, analysis::pareto_front, era_suite, evaluate, flip_suite, parse_scenarios,
    parse_timeline, summary, training_suite, Design, Evaluation, Metric,
    TRAIN_MICROBATCHES_PER_DEVICE,
};
use xpusim_ir::Graph;
use xpusim_train::{Rank, TrainError, TrainLayout};

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
    let ours = flip_suite();
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

/// The Llama 3 8B training workload of the suite.
fn llm_train() -> xpusim_flip::SuiteWorkload {
    training_suite()
        .into_iter()
        .find(|w| w.era == "llm-train")
        .unwrap()
}

/// Samples per second per device of the fastest layout `xpusim-train`'s search finds that
/// fits, at the suite's global batch, priced here independently of flip.
fn train_rate_per_device(hw: &str) -> f64 {
    let w = llm_train();
    let t = xpusim_target::Target::load(hw).unwrap();
    let natural = t.natural_dtype();
    let req = w.request();
    let build = |mb: u64, s: u64| -> Result<Graph, TrainError> {
        xpusim_workload::Request {
            batch: Some(mb),
            seq: Some(s),
            ..req.clone()
        }
        .graph(natural)
        .map_err(|e| TrainError::Build(e.to_string()))
    };
    let n = t.count();
    let base = TrainLayout {
        global_batch: TRAIN_MICROBATCHES_PER_DEVICE * w.batch.unwrap() * n,
        ..Default::default()
    };
    let runs = xpusim_train::search(&build, w.seq.unwrap(), &t, &[n], &base, Rank::Time).unwrap();
    let best = runs.iter().find(|c| c.fits).expect("a layout that fits");
    best.samples_per_s / n as f64
}

#[test]
fn an_llm_training_scenario_ranks_designs_by_training_throughput_per_device() {
    // Systems of 8 and single devices large enough to train Llama 3 8B alone.
    let hw = ["dgx-a100", "hgx-h200", "b200", "mi300x"];
    let designs = hw
        .iter()
        .map(|n| Design::new(xpusim_target::Target::load(n).unwrap()))
        .collect();
    let ev = evaluate(designs, &[llm_train()]).unwrap();
    let scen = parse_scenarios(
        "s.toml",
        "[[scenario]]\nname = \"pre-training\"\nmix = { llm-train = 1 }\n",
    )
    .unwrap();
    let a = analyse(&ev, Metric::Throughput, &scen, &[]).unwrap();
    assert_eq!(a.eras, ["llm-train"]);
    let want: Vec<f64> = hw.iter().map(|h| train_rate_per_device(h)).collect();
    let top = want.iter().copied().fold(0.0, f64::max);
    let s = &a.scenarios[0];
    for (i, h) in hw.iter().enumerate() {
        let d = a.names.iter().position(|n| n == h).unwrap();
        assert!(
            (s.score[d] - want[i] / top).abs() < 1e-9,
            "{h}: score {} vs {} / {top}",
            s.score[d],
            want[i]
        );
        let c = &ev.cells[d][0];
        assert!(c.train.as_ref().unwrap().fits, "{h}");
        assert_eq!(c.devices, ev.designs[d].count, "{h}");
    }
    let fastest = hw[want
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0];
    assert_eq!(s.best, fastest);
    // A mix of nothing but training has no serving share to compare with.
    assert!(s.without_training.is_none());
}

#[test]
fn a_device_that_cannot_hold_a_training_workload_is_counted_several_times() {
    // Llama 3 8B's weights, FP32 gradients and Adam state (128 GB) exceed one H100.
    let designs = vec![
        Design::new(xpusim_target::Target::load("h100-sxm").unwrap()),
        Design::new(xpusim_target::Target::load("b200").unwrap()),
    ];
    let ev = evaluate(designs, &[llm_train()]).unwrap();
    let c = &ev.cells[0][0];
    let t = c.train.as_ref().unwrap();
    assert!(!t.fits);
    let n = t.memory_per_device_bytes.div_ceil(t.memory.capacity_bytes);
    assert!(n >= 2, "{n}");
    assert_eq!(c.devices, n * t.devices);
    // The one-device step rate, shared by the n devices; their idle power charged.
    assert_eq!(c.samples_per_s, t.samples_per_s);
    let idle_w = ev.designs[0].spec().power.idle_w;
    let want_j =
        (t.energy_per_step_j + (n - 1) as f64 * idle_w * t.step_time_s) / t.samples_per_step as f64;
    assert!((c.energy_per_sample_j - want_j).abs() < 1e-9 * want_j);
    // It is ranked (not dropped) under every metric, and a verdict says why it is counted so.
    let scen = xpusim_flip::builtin_scenarios();
    for m in [Metric::Tco, Metric::Energy, Metric::Throughput] {
        let a = analyse(&ev, m, &scen, &[]).unwrap();
        assert!(a.names.iter().any(|n| n == "h100-sxm"), "{m:?}");
        if m == Metric::Throughput {
            let h = a.names.iter().position(|n| n == "h100-sxm").unwrap();
            let b = a.names.iter().position(|n| n == "b200").unwrap();
            let per_dev = |d: usize| ev.cells[d][0].samples_per_s / ev.cells[d][0].devices as f64;
            assert!((a.era_eff[h][0] / a.era_eff[b][0] - per_dev(0) / per_dev(1)).abs() < 1e-9);
        }
        let v = summary::verdicts(&a, &ev).join("\n");
        assert!(
            v.contains(&format!(
                "Training memory: no layout of llama-3-8b train fits on h100-sxm ×{n}"
            )),
            "{v}"
        );
        assert!(!v.contains("b200 ×"), "{v}");
    }
}

#[test]
fn a_serving_winner_can_lose_when_half_its_life_is_training() {
    // The transformer ASIC wins prompt processing on energy; Llama 3 8B training runs part
    // of its backward on its host and needs two of it, so the GPU wins the half-training mix.
    let designs = ["h100-sxm", "xformer-asic"]
        .iter()
        .map(|n| Design::new(xpusim_target::Target::load(n).unwrap()))
        .collect();
    let prefill = era_suite()
        .into_iter()
        .find(|w| w.era == "llm-prefill")
        .unwrap();
    let ev = evaluate(designs, &[prefill, llm_train()]).unwrap();
    let scen = parse_scenarios(
        "s.toml",
        "[[scenario]]\nname = \"half\"\nmix = { llm-prefill = 1, llm-train = 1 }\n",
    )
    .unwrap();
    let a = analyse(&ev, Metric::Energy, &scen, &[]).unwrap();
    let s = &a.scenarios[0];
    let w = s.without_training.as_ref().unwrap();
    assert!((w.training_share - 0.5).abs() < 1e-12);
    let e = a.eras.iter().position(|e| e == "llm-prefill").unwrap();
    let serving_best = (0..2)
        .max_by(|x, y| a.era_eff[*x][e].total_cmp(&a.era_eff[*y][e]))
        .unwrap();
    assert_eq!(w.best, a.names[serving_best]);
    assert_eq!(w.best, "xformer-asic");
    assert_eq!(s.best, "h100-sxm");
    assert!((w.score - s.score[serving_best]).abs() < 1e-12 && w.score < 1.0);
    let v = summary::verdicts(&a, &ev).join("\n");
    assert!(
        v.contains("With training: in `half` (50% of demand training), xformer-asic would be the best design for the rest of the mix alone; with training h100-sxm wins"),
        "{v}"
    );
}

#[test]
fn the_training_heavy_scenario_weights_the_training_eras() {
    let s = xpusim_flip::builtin_scenarios();
    let th = s.iter().find(|s| s.name == "training-heavy").unwrap();
    let share: f64 = xpusim_flip::TRAINING_ERAS
        .iter()
        .filter_map(|e| th.mix.get(*e))
        .sum();
    assert!((share - 0.5).abs() < 1e-12, "{share}");
    // Training eras are accepted in scenario and timeline files; unknown ones still are not.
    parse_scenarios(
        "s.toml",
        "[[scenario]]\nname = \"t\"\nmix = { cnn-train = 1, encoder-train = 1, llm-train = 2 }\n",
    )
    .unwrap();
    parse_timeline(
        "t.toml",
        "[[timeline]]\nyear = 2025\nmix = { llm-train = 1 }\n",
    )
    .unwrap();
    let e = parse_scenarios(
        "s.toml",
        "[[scenario]]\nname = \"t\"\nmix = { rnn-train = 1 }\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("mix.rnn-train") && e.contains("unknown era") && e.contains("llm-train"),
        "{e}"
    );
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
