//! Property tests: parsers never panic, and the replay agrees with the closed-form counts.

use std::path::Path;

use proptest::prelude::*;
use xpusim_systolic::{
    parse_config, parse_topology, simulate_compute, simulate_layer, ArrayConfig, BandwidthMode,
    Dataflow, Layer,
};

fn dataflow() -> impl Strategy<Value = Dataflow> {
    prop_oneof![Just(Dataflow::Os), Just(Dataflow::Ws), Just(Dataflow::Is)]
}

prop_compose! {
    fn small_layer()(h in 1u64..14, w in 1u64..14, fh_frac in 0.0f64..1.0, fw_frac in 0.0f64..1.0,
                     c in 1u64..5, n in 1u64..7, s in 1u64..4) -> Layer {
        let fh = 1 + ((h - 1) as f64 * fh_frac) as u64;
        let fw = 1 + ((w - 1) as f64 * fw_frac) as u64;
        Layer::conv("p", h, w, fh, fw, c, n, s).expect("valid by construction")
    }
}

prop_compose! {
    fn small_array()(rows in 1u64..7, cols in 1u64..7, df in dataflow(), kb in 1u64..3,
                     user in any::<bool>(), bw in 1u64..6) -> ArrayConfig {
        let mut cfg = ArrayConfig::new(rows, cols, df, [kb, kb, kb]);
        if user {
            cfg.bandwidth_mode = BandwidthMode::User;
            cfg.bandwidth = vec![bw];
            cfg.ifmap_dram_bandwidth = bw;
            cfg.filter_dram_bandwidth = bw;
        }
        cfg
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn config_parser_never_panics(text in "(\\PC|\n|\\[|\\]|:|=){0,200}") {
        let _ = parse_config(&text, Path::new("fuzz.cfg"));
    }

    #[test]
    fn topology_parser_never_panics(text in "([a-zA-Z0-9 ,:\\-]|\n){0,200}") {
        let _ = parse_topology(&text, Path::new("fuzz.csv"), None);
    }

    #[test]
    fn replay_agrees_with_closed_form(layer in small_layer(), cfg in small_array()) {
        let full = simulate_layer(&cfg, &layer);
        let fast = simulate_compute(&cfg, &layer);
        prop_assert_eq!(full.cycles, fast.cycles);
        prop_assert_eq!(full.total_cycles, full.cycles + full.stall_cycles);
        prop_assert_eq!(full.sram_filter_reads, fast.sram_filter_reads);
        if cfg.bandwidth_mode == BandwidthMode::Calc {
            prop_assert_eq!(full.stall_cycles, 0);
            // The estimator fetches each address at least once and never more than it is read.
            prop_assert!(full.dram_filter_reads <= full.sram_filter_reads);
            prop_assert!(full.dram_filter_reads >= layer.window() * layer.num_filters);
        }
        // Every output reaches DRAM at least once.
        let outputs = layer.ofmap_pixels() * layer.num_filters;
        prop_assert!(full.dram_ofmap_writes >= outputs);
        prop_assert!(full.mapping_efficiency_pct > 0.0 && full.mapping_efficiency_pct <= 100.0);
        prop_assert!(full.compute_util_pct > 0.0 && full.compute_util_pct <= 100.0);
        // Overall utilisation can pass 100% on tiny layers: SCALE-Sim divides by the index of
        // the last line, not the line count.
        if full.total_cycles > 0 {
            prop_assert!(full.utilization_pct > 0.0);
        }
    }
}

#[test]
fn invalid_hand_built_layer_gives_zero_report() {
    let mut layer = Layer::conv("x", 4, 4, 3, 3, 1, 1, 1).expect("valid");
    layer.filter_h = 9; // larger than the ifmap
    let cfg = ArrayConfig::new(4, 4, Dataflow::Os, [1, 1, 1]);
    let r = simulate_layer(&cfg, &layer);
    assert_eq!((r.cycles, r.total_cycles, r.num_macs), (0, 0, 0));
    layer.filter_h = 3;
    layer.stride_w = 0;
    assert_eq!(simulate_compute(&cfg, &layer).cycles, 0);
}
