//! The AttAcc reproduction (docs/attacc.md): trend and measured ratios, pinned as
//! regression guards of what the model gives.

use xpusim_hw::find_system;
use xpusim_validate::attacc;

/// AttAcc's abstract: up to 2.81× throughput and 2.67× energy efficiency over the GPU-only
/// system with the same capacity. Under the simulator's capacity rule (weights + KV cache
/// within GPU + AttAcc memory) the largest batch at Lin 2048 / Lout 128 is ~100; there,
/// with the paper's optimisations (FFN split, head pipelining), xpusim's throughput gain is
/// within 20 % of the headline. The energy-efficiency gain is not: ~1.9× with the AttAcc
/// simulator's own accounting (a replica of the simulator's energy code gives 1.87× at
/// batch 99 too), ~1.8× with xpusim's defaults (docs/attacc.md says why). These bounds pin
/// what the model gives.
#[test]
fn attacc_reproduction_trend_and_measured_ratios() {
    let sys = find_system("dgx-a100-attacc").unwrap();
    let max_fit = attacc::max_batch_that_fits(&sys).unwrap();
    // Simulator formula (system.py get_required_mem_capacity): (1280 GiB − 324 GiB of
    // weights) / 9.56 GiB of KV per request = 100; xpusim also counts the embeddings.
    assert!((95..=100).contains(&max_fit), "{max_fit}");
    let rows = attacc::sweep_system(&sys, &[1, 16, 32, 64, max_fit, 256]).unwrap();
    for w in rows[1..].windows(2) {
        assert!(w[1].throughput_ratio > w[0].throughput_ratio);
        assert!(w[1].energy_ratio > w[0].energy_ratio);
    }
    // Under AttAcc's accounting the gain grows from batch 1 on: the shared FC energy
    // dominates small batches, the KV read (28.7 vs 4.4 pJ/B) large ones.
    for w in rows.windows(2) {
        assert!(w[1].energy_ratio_paper > w[0].energy_ratio_paper);
    }
    assert!((0.95..1.1).contains(&rows[0].energy_ratio_paper));
    assert!(rows
        .iter()
        .all(|r| r.throughput_ratio >= 1.0 && r.energy_ratio >= 1.0));
    let last_fit = rows.iter().rev().find(|r| r.fits).unwrap();
    assert_eq!(last_fit.batch, max_fit);
    let rel = last_fit.throughput_ratio / attacc::PAPER_MAX_THROUGHPUT_RATIO - 1.0;
    assert!(rel.abs() <= 0.2, "{}", last_fit.throughput_ratio);
    assert!(
        (1.8..1.95).contains(&last_fit.energy_ratio_paper),
        "{}",
        last_fit.energy_ratio_paper
    );
    assert!(
        (1.6..2.0).contains(&last_fit.energy_ratio),
        "{}",
        last_fit.energy_ratio
    );
    // xpusim's placement check is stricter: the KV cache and the FFN share must fit in the
    // AttAcc stacks, which stops at batch 32.
    let last_placed = rows.iter().rev().find(|r| r.fits_placed).unwrap();
    assert_eq!(last_placed.batch, 32);
}

/// AttAcc's accounting at batch 1 on the GPU-only system is dominated by streaming the
/// weights once: 28.72 pJ/B off-chip + 2.4 (L2) + 1.28 (L1) at most, plus the MACs.
#[test]
fn paper_accounting_gpu_batch1_is_the_weight_stream() {
    let rows = attacc::sweep("dgx-a100-attacc", &[1]).unwrap();
    // GPT-3 175B layers: 96 × 12·d² FP16 weights (d = 12288), embeddings excluded.
    let weights_bytes = 96.0 * 12.0 * 12288f64.powi(2) * 2.0;
    let lo = weights_bytes * 28.72e-12;
    let hi = weights_bytes * (28.72 + 2.4 + 1.28) * 1e-12 * 1.1;
    let j = rows[0].gpu_j_per_tok_paper;
    assert!((lo..hi).contains(&j), "{j}");
}

/// Without the FFN split (attention on PIM + head pipelining only) the weights stay on the
/// GPUs, batch 64 fits, and the gain grows monotonically with batch from batch 1.
#[test]
fn attacc_ablation_without_ffn_split() {
    let mut sys = find_system("dgx-a100-attacc").unwrap();
    if let Some(p) = sys.pim.as_mut() {
        p.attach.ffn_split = false;
    }
    let rows = attacc::sweep_system(&sys, &[1, 16, 64, 256]).unwrap();
    for w in rows.windows(2) {
        assert!(w[1].throughput_ratio > w[0].throughput_ratio);
    }
    let at64 = rows.iter().find(|r| r.batch == 64).unwrap();
    assert!(at64.fits && at64.fits_placed);
    assert!(
        (1.6..2.1).contains(&at64.throughput_ratio),
        "{}",
        at64.throughput_ratio
    );
    assert!(
        (1.35..1.8).contains(&at64.energy_ratio),
        "{}",
        at64.energy_ratio
    );
}
