//! Placement on xPU + PIM systems and the AttAcc reproduction.

use xpusim_ir::{DType, OpKind, Phase, Precision};
use xpusim_models::{build, Workload};
use xpusim_pim::{attacc, evaluate, find_system, HeteroSystem, Objective, Placement};

fn gpt3(phase: Phase, batch: u64, seq_len: u64, context: u64) -> xpusim_ir::Graph {
    let w = Workload {
        phase,
        batch,
        seq_len,
        context,
        precision: Precision::uniform(DType::Fp16),
        image_size: None,
    };
    build("gpt3-175b", &w).unwrap()
}

#[test]
fn auto_puts_decode_attention_on_pim_at_large_batch_and_context() {
    let sys = find_system("dgx-a100-attacc").unwrap();
    let g = gpt3(Phase::Decode, 64, 1, 2000);
    for objective in [Objective::Time, Objective::Energy] {
        let c = evaluate(&g, &sys, Placement::Auto, objective).unwrap();
        let attn: Vec<_> = c.ops.iter().filter(|o| o.kind == "attention").collect();
        assert!(!attn.is_empty());
        assert!(attn.iter().all(|o| o.on_pim), "{objective:?}");
        // Norms, activations and collectives never leave the host.
        assert!(c
            .ops
            .iter()
            .filter(|o| ["norm", "collective", "elementwise"].contains(&o.kind))
            .all(|o| !o.on_pim));
    }
}

#[test]
fn auto_keeps_large_gemms_on_the_host() {
    let sys = find_system("dgx-a100-attacc").unwrap();
    let g = gpt3(Phase::Prefill, 4, 2048, 0);
    let c = evaluate(&g, &sys, Placement::Auto, Objective::Time).unwrap();
    let tp = xpusim_system::shard::shard(&g, &xpusim_system::Parallelism::tp(8)).unwrap();
    let mut checked = 0;
    for (op, r) in tp.ops.iter().zip(&c.ops) {
        assert_eq!(op.op.name, r.name);
        if let OpKind::Matmul(m) = &op.op.kind {
            if m.batch * m.m >= 1024 && !m.rhs_batched {
                assert!(!r.on_pim, "{} went to PIM", r.name);
                checked += 1;
            }
        }
    }
    assert!(checked >= 4);
}

#[test]
fn host_only_is_the_sum_of_host_times_and_gpu_system_rejects_pim_placement() {
    let sys = find_system("dgx-a100-attacc").unwrap();
    let g = gpt3(Phase::Decode, 8, 1, 1024);
    let c = evaluate(&g, &sys, Placement::HostOnly, Objective::Time).unwrap();
    let sum: f64 = c.ops.iter().map(|o| o.host_time_s).sum();
    assert!((c.latency_s - sum).abs() <= 1e-12 * sum.max(1.0));
    assert!(c.ops.iter().all(|o| !o.on_pim) && c.pim_s == 0.0);
    let gpu = find_system("dgx-a100-hbm3-2x").unwrap();
    assert!(evaluate(&g, &gpu, Placement::AttentionOnPim, Objective::Time).is_err());
}

#[test]
fn attention_on_pim_moves_the_kv_cache_off_the_gpus() {
    let sys = find_system("dgx-a100-attacc").unwrap();
    let g = gpt3(Phase::Decode, 32, 1, 2047);
    let pim = evaluate(&g, &sys, Placement::AttentionOnPim, Objective::Time).unwrap();
    let host = evaluate(&g, &sys, Placement::HostOnly, Objective::Time).unwrap();
    assert_eq!(pim.host_bytes + pim.pim_bytes, host.host_bytes);
    assert!(pim.pim_bytes > 0 && pim.latency_s < host.latency_s);
}

#[test]
fn head_pipelining_hides_part_of_the_shorter_of_attention_and_projections() {
    let mut sys = find_system("dgx-a100-attacc").unwrap();
    let g = gpt3(Phase::Decode, 64, 1, 2047);
    let on = evaluate(&g, &sys, Placement::AttentionOnPim, Objective::Time).unwrap();
    sys.spec.head_pipelining = false;
    let off = evaluate(&g, &sys, Placement::AttentionOnPim, Objective::Time).unwrap();
    assert_eq!(off.overlap_s, 0.0);
    assert!(on.overlap_s > 0.0 && on.overlap_s < on.pim_s + on.link_s);
    assert!((off.latency_s - on.latency_s - on.overlap_s).abs() < 1e-12);
    assert!(on.energy_j < off.energy_j);
}

#[test]
fn inconsistent_systems_are_errors() {
    let src = "name = \"x\"\ndisplay_name = \"x\"\nhost = \"a100-hbm3\"\nhost_count = 3\npim = \"attacc-bank\"\npim_modules = 1\nplacement = \"auto\"\n[link]\nbandwidth_gbps = 1\nlatency_us = 0\nenergy_pj_per_byte = 1\n";
    let e = HeteroSystem::from_toml("s.toml", src, None)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("s.toml:6: field `pim_modules`"), "{e}");
    let e = HeteroSystem::from_toml(
        "s.toml",
        &src.replace("host_count = 3", "host_count = 1").replace(
            "[link]\nbandwidth_gbps = 1\nlatency_us = 0\nenergy_pj_per_byte = 1\n",
            "",
        ),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("needs a [link] table"), "{e}");
}

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
    sys.spec.ffn_split = false;
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
