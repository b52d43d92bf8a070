//! Inputs the `scalesim_topology` fuzz target found (docs/fuzzing.md), kept as regressions.

use std::path::Path;

use xpusim_systolic::{
    compute_report, parse_topology, simulate_compute, ArrayConfig, Dataflow, Geometry,
};

/// fuzz/artifacts/scalesim_topology/slow-unit-67ea6a85…: a conv with ~10^6 filters. The
/// compute report summed utilisation fold by fold, 10^8 folds on a 32×32 array (10 s under
/// the fuzzer) and up to 2^48 on a 1×1 one (hours). It is closed form now.
#[test]
fn compute_report_of_a_layer_with_billions_of_folds_is_immediate() {
    let text = "88trides,\nCon,224,2211,11,1,3,988888,2\n";
    let layers = parse_topology(text, Path::new("slow-unit.csv"), None).unwrap();
    assert_eq!(layers.len(), 1);
    let l = &layers[0];
    for df in [Dataflow::Os, Dataflow::Ws, Dataflow::Is] {
        for (r, c) in [(32, 32), (1, 1), (7, 3)] {
            let g = Geometry::new(l, r, c, df);
            let rep = compute_report(&g);
            assert!(rep.mapping_efficiency_pct > 0.0 && rep.mapping_efficiency_pct <= 100.0);
            assert!(rep.compute_util_pct > 0.0 && rep.compute_util_pct <= 100.0);
            let sim = simulate_compute(&ArrayConfig::new(r, c, df, [64, 64, 64]), l);
            assert_eq!(sim.cycles, rep.cycles);
        }
    }
}

/// The closed form equals SCALE-Sim's fold-by-fold mean on layers with partial folds in
/// both dimensions (the golden rows check it against SCALE-Sim itself).
#[test]
fn closed_form_utilisation_equals_the_mean_over_folds() {
    let text = "Layer,IFMAP H,IFMAP W,Filter H,Filter W,Channels,Num Filter,Strides,\n\
                a,30,27,3,2,5,41,2,\nb,9,9,9,9,1,1,1,\nc,64,3,1,3,17,130,1,\n";
    let layers = parse_topology(text, Path::new("t.csv"), None).unwrap();
    for l in &layers {
        for df in [Dataflow::Os, Dataflow::Ws, Dataflow::Is] {
            for (r, c) in [(8, 8), (5, 16), (1, 6), (128, 128)] {
                let g = Geometry::new(l, r, c, df);
                let rep = compute_report(&g);
                let macs = (r * c) as f64;
                let cyc = match df {
                    Dataflow::Os => g.t + r + c - 2,
                    _ => g.t + 2 * r + 2 * c - 3,
                } as f64;
                let (mut map, mut util) = (0.0, 0.0);
                for f in g.folds() {
                    let used = (f.rows_used * f.cols_used) as f64;
                    map += used / macs;
                    util += used * g.t as f64 / (macs * cyc);
                }
                let n = g.num_folds() as f64;
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
                assert!(
                    close(rep.mapping_efficiency_pct, map / n * 100.0),
                    "{}",
                    l.name
                );
                assert!(close(rep.compute_util_pct, util / n * 100.0), "{}", l.name);
            }
        }
    }
}

/// fuzz/artifacts/scalesim_topology/timeout-d198295d…: a depthwise row with 402,209 channels, which
/// SCALE-Sim splits into one layer per channel. The topology is capped at `MAX_LAYERS`
/// expanded layers with an error naming the row, instead of simulating 4·10^5 layers.
#[test]
fn a_depthwise_row_past_the_layer_cap_is_an_error_naming_the_row() {
    let text = ",\neyDPF,1,1,1,1,402209,1,1,\n";
    let err = parse_topology(text, Path::new("dp.csv"), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("dp.csv:2:"), "{err}");
    assert!(err.contains("depthwise") && err.contains("402209"), "{err}");
    // At the cap itself the expansion is still allowed, channel by channel.
    let ok = format!(",\nxDP,1,1,1,1,{},1,1,\n", xpusim_systolic::MAX_LAYERS);
    let layers = parse_topology(&ok, Path::new("dp.csv"), None).unwrap();
    assert_eq!(layers.len() as u64, xpusim_systolic::MAX_LAYERS);
    assert!(layers.iter().all(|l| l.channels == 1));
}
