//! Timing-model invariants.

use proptest::prelude::*;
use xpusim_hw::load_pim;
use xpusim_pim::timing::{attention, gemv, internal_bandwidth_bps, Attention, Gemv};

fn mat(rows: u64, cols: u64, batch: u64) -> Gemv {
    Gemv {
        rows,
        cols,
        batch,
        elem_bytes: 2,
        input_sets: 1,
    }
}

#[test]
fn attacc_internal_bandwidth_matches_the_simulator_scale() {
    // AttAcc config.py: with the power constraint, AttAcc_bank reaches 9x and AttAcc_BG 3x
    // the 670.4 GB/s external bandwidth of a stack.
    let ext = 670.4e9;
    let bank = internal_bandwidth_bps(&load_pim("attacc-bank").unwrap(), 1) / ext;
    let bg = internal_bandwidth_bps(&load_pim("attacc-bg").unwrap(), 1) / ext;
    assert!((bank - 9.0).abs() / 9.0 < 0.1, "bank-level scale {bank}");
    assert!((bg - 3.0).abs() / 3.0 < 0.15, "bank-group scale {bg}");
}

#[test]
fn gemv_is_at_least_the_streaming_time() {
    let s = load_pim("hbm-pim-aquabolt").unwrap();
    let g = mat(4096, 4096, 1);
    let c = gemv(&s, 1, &g);
    let floor = (4096.0 * 4096.0 * 2.0) / internal_bandwidth_bps(&s, 1);
    assert!(c.time_s >= floor * 0.999, "{} < {floor}", c.time_s);
    assert!(c.energy_j > 0.0);
}

#[test]
fn buffer_die_softmax_keeps_scores_on_the_stack() {
    let a = Attention {
        batch: 8,
        heads: 12,
        kv_heads: 12,
        q_len: 1,
        kv_len: 2048,
        head_dim: 128,
        elem_bytes: 2,
    };
    let attacc = attention(&load_pim("attacc-bank").unwrap(), 1, &a);
    assert_eq!(attacc.host_softmax_elems, 0);
    assert!(attacc.softmax_s > 0.0);
    let aim = attention(&load_pim("gddr6-aim").unwrap(), 1, &a);
    assert_eq!(aim.host_softmax_elems, 8 * 12 * 2048);
}

proptest! {
    #[test]
    fn gemv_time_monotone_in_bandwidth_and_units(
        rows in 1u64..20_000,
        cols in 1u64..20_000,
        batch in 1u64..16,
        stacks in 1u64..8,
        scale in 1.0f64..8.0,
    ) {
        let s = load_pim("attacc-bank").unwrap();
        let g = mat(rows, cols, batch);
        let base = gemv(&s, stacks, &g).time_s;
        // More stacks (more PUs and I/O).
        prop_assert!(gemv(&s, stacks + 1, &g).time_s <= base * (1.0 + 1e-9));
        // More I/O bandwidth.
        let mut io = s.clone();
        io.io.bandwidth_gbps *= scale;
        prop_assert!(gemv(&io, stacks, &g).time_s <= base * (1.0 + 1e-9));
        // Faster column commands (more internal bandwidth).
        let mut fast = s.clone();
        fast.processing.mac_interval_cycles = 4;
        prop_assert!(gemv(&fast, stacks, &g).time_s <= base * (1.0 + 1e-9));
        // More MACs per cycle.
        let mut wide = s.clone();
        wide.processing.macs_per_cycle *= 2;
        prop_assert!(gemv(&wide, stacks, &g).time_s <= base * (1.0 + 1e-9));
    }

    #[test]
    fn gemv_time_monotone_in_work(rows in 1u64..20_000, cols in 1u64..5_000, batch in 1u64..16) {
        let s = load_pim("gddr6-aim").unwrap();
        let t = gemv(&s, 2, &mat(rows, cols, batch)).time_s;
        prop_assert!(gemv(&s, 2, &mat(rows + 1, cols, batch)).time_s >= t * (1.0 - 1e-9));
        prop_assert!(gemv(&s, 2, &mat(rows, cols, batch + 1)).time_s >= t * (1.0 - 1e-9));
    }
}
