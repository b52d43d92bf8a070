//! The event-skipping memory replay (`src/fast/`) against the line-by-line replay it
//! replaces (`simulate_layer_replay`, the reference oracle): every field equal on random small
//! layers, arrays, SRAM sizes, bandwidths, dataflows and both bandwidth modes.

use proptest::prelude::*;
use xpusim_systolic::{
    simulate_layer, simulate_layer_replay, ArrayConfig, BandwidthMode, Dataflow, Layer,
};

fn dataflow() -> impl Strategy<Value = Dataflow> {
    prop_oneof![Just(Dataflow::Os), Just(Dataflow::Ws), Just(Dataflow::Is)]
}

/// GEMMs, the shape the event-skipping replay is built for.
fn gemm() -> impl Strategy<Value = Layer> {
    (1u64..160, 1u64..160, 1u64..160)
        .prop_map(|(m, n, k)| Layer::gemm("g", m, n, k).expect("valid by construction"))
}

/// Convolutions: 1x1, non-overlapping (stride >= filter) and overlapping windows, so both the
/// event-skipping path and the fallback are compared.
fn conv() -> impl Strategy<Value = Layer> {
    (
        1u64..24,
        1u64..24,
        1u64..4,
        1u64..4,
        1u64..6,
        1u64..20,
        1u64..5,
    )
        .prop_filter_map("filter fits", |(h, w, fh, fw, c, n, s)| {
            (fh <= h && fw <= w).then(|| Layer::conv("c", h, w, fh, fw, c, n, s).ok())?
        })
}

fn cases() -> u32 {
    std::env::var("XPUSIM_EQUIV_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(96)
}

prop_compose! {
    /// SRAMs of 1..6 kB against layers of up to ~25k operand words, so the buffers refill,
    /// wrap their prefetch windows and drain many times.
    fn array()(rows in 1u64..12, cols in 1u64..12, df in dataflow(), ifkb in 1u64..6,
               filkb in 1u64..6, ofkb in 1u64..6, user in any::<bool>(),
               bw in prop_oneof![1u64..4, 4u64..40, 400u64..2000], ifbw in prop_oneof![1u64..30, 500u64..3000],
               filbw in 1u64..30)
               -> ArrayConfig {
        let mut cfg = ArrayConfig::new(rows, cols, df, [ifkb, filkb, ofkb]);
        if user {
            cfg.bandwidth_mode = BandwidthMode::User;
            cfg.bandwidth = vec![bw];
            cfg.ifmap_dram_bandwidth = ifbw;
            cfg.filter_dram_bandwidth = filbw;
        }
        cfg
    }
}

proptest! {
    // XPUSIM_EQUIV_CASES raises the case count for a longer run (release build advised).
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn gemm_matches_line_by_line(layer in gemm(), cfg in array()) {
        prop_assert_eq!(simulate_layer(&cfg, &layer), simulate_layer_replay(&cfg, &layer));
    }

    #[test]
    fn conv_matches_line_by_line(layer in conv(), cfg in array()) {
        prop_assert_eq!(simulate_layer(&cfg, &layer), simulate_layer_replay(&cfg, &layer));
    }
}

/// Larger GEMMs with small SRAMs: many epochs, window wraps and drains per layer.
#[test]
fn larger_gemms_match_line_by_line() {
    for df in [Dataflow::Os, Dataflow::Ws, Dataflow::Is] {
        for (m, n, k) in [(300, 70, 129), (64, 333, 40), (97, 45, 511)] {
            let layer = Layer::gemm("g", m, n, k).expect("valid");
            let mut cfg = ArrayConfig::new(8, 16, df, [2, 3, 1]);
            assert_eq!(
                simulate_layer(&cfg, &layer),
                simulate_layer_replay(&cfg, &layer)
            );
            cfg.bandwidth_mode = BandwidthMode::User;
            cfg.bandwidth = vec![3];
            cfg.ifmap_dram_bandwidth = 7;
            cfg.filter_dram_bandwidth = 2;
            assert_eq!(
                simulate_layer(&cfg, &layer),
                simulate_layer_replay(&cfg, &layer)
            );
        }
    }
}

/// GPT-2 small's six GEMMs (`benches/gpt2_small_gemms.csv`) on the bench's 32x32 configs, all
/// three dataflows: minutes in a debug build, so run it with
/// `cargo test --release -p xpusim-systolic --test replay_equivalence -- --ignored`.
#[test]
#[ignore = "slow: the line-by-line reference takes ~10 s per mode in release"]
fn gpt2_gemms_match_line_by_line() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches");
    let layers =
        xpusim_systolic::load_topology(dir.join("gpt2_small_gemms.csv")).expect("topology");
    for name in [
        "32x32_os_CALC_sram256-256-256.cfg",
        "32x32_os_USER10_sram64-64-64.cfg",
    ] {
        let mut cfg = xpusim_systolic::load_config(dir.join(name)).expect("config");
        for df in [Dataflow::Os, Dataflow::Ws, Dataflow::Is] {
            cfg.dataflow = df;
            for layer in &layers {
                let fast = simulate_layer(&cfg, layer);
                assert_eq!(
                    fast,
                    simulate_layer_replay(&cfg, layer),
                    "{name} {df} {}",
                    layer.name
                );
                println!("{name} {df} {}: {fast:?}", layer.name);
            }
        }
    }
}
