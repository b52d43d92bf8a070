//! Compares the model against the 949 (run, layer) rows SCALE-Sim 3.0.0 reported, stored in
//! `shared/scalesim/golden.csv` beside the repository root.
//!
//! Compute cycles must match exactly on every row. Every other metric is measured (mean
//! absolute % error and exact-match fraction) and held to the bound this model achieves.
//! Set `XPUSIM_GOLDEN_VERBOSE=1` to list mismatching rows.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use xpusim_systolic::{
    load_config, load_topology, simulate_layer, ArrayConfig, Layer, LayerReport,
};

struct Row {
    fields: HashMap<String, String>,
}

impl Row {
    fn s(&self, k: &str) -> &str {
        self.fields.get(k).map(String::as_str).unwrap_or("")
    }
    fn f(&self, k: &str) -> f64 {
        self.s(k).parse::<f64>().unwrap_or(f64::NAN)
    }
}

fn read_golden(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).expect("golden.csv readable");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| Row {
            fields: header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_string))
                .collect(),
        })
        .collect()
}

/// (report field, golden column, bound on mean abs % error, bound on exact fraction).
type Metric = (&'static str, &'static str, f64, f64);

const METRICS: &[Metric] = &[
    ("cycles", "Total Cycles - Stall Cycles", 0.0, 1.0),
    ("total_cycles", "Total Cycles", 0.0, 1.0),
    ("stall_cycles", "Stall Cycles", 0.0, 1.0),
    ("utilization_pct", "Overall Util %", 0.0, 1.0),
    ("mapping_efficiency_pct", "Mapping Efficiency %", 0.0, 1.0),
    ("compute_util_pct", "Compute Util %", 0.0, 1.0),
    ("sram_ifmap_reads", "SRAM IFMAP Reads", 0.0, 1.0),
    ("sram_filter_reads", "SRAM Filter Reads", 0.0, 1.0),
    ("sram_ofmap_writes", "SRAM OFMAP Writes", 0.0, 1.0),
    ("dram_ifmap_reads", "DRAM IFMAP Reads", 0.0, 1.0),
    ("dram_filter_reads", "DRAM Filter Reads", 0.0, 1.0),
    ("dram_ofmap_writes", "DRAM OFMAP Writes", 0.0, 1.0),
];

fn ours(r: &LayerReport, field: &str) -> f64 {
    match field {
        "cycles" => r.cycles as f64,
        "total_cycles" => r.total_cycles as f64,
        "stall_cycles" => r.stall_cycles as f64,
        "utilization_pct" => r.utilization_pct,
        "mapping_efficiency_pct" => r.mapping_efficiency_pct,
        "compute_util_pct" => r.compute_util_pct,
        "sram_ifmap_reads" => r.sram_ifmap_reads as f64,
        "sram_filter_reads" => r.sram_filter_reads as f64,
        "sram_ofmap_writes" => r.sram_ofmap_writes as f64,
        "dram_ifmap_reads" => r.dram_ifmap_reads as f64,
        "dram_filter_reads" => r.dram_filter_reads as f64,
        "dram_ofmap_writes" => r.dram_ofmap_writes as f64,
        _ => f64::NAN,
    }
}

fn theirs(row: &Row, col: &str) -> f64 {
    if col == "Total Cycles - Stall Cycles" {
        row.f("Total Cycles") - row.f("Stall Cycles")
    } else {
        row.f(col)
    }
}

/// Equal within float noise (percentages are computed in a different order).
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn check_layer(row: &Row, layer: &Layer) {
    let want = |k: &str| row.s(k).parse::<u64>().ok();
    if row.s("input_type") == "gemm" {
        assert_eq!(want("M"), Some(layer.ifmap_h), "M of {}", layer.name);
        assert_eq!(want("K"), Some(layer.window()), "K of {}", layer.name);
        assert_eq!(want("N"), Some(layer.num_filters), "N of {}", layer.name);
    } else {
        assert_eq!(
            want("ifmap_h"),
            Some(layer.ifmap_h),
            "ifmap_h of {}",
            layer.name
        );
        assert_eq!(
            want("channels"),
            Some(layer.channels),
            "C of {}",
            layer.name
        );
        assert_eq!(
            want("ofmap_w"),
            Some(layer.ofmap_w()),
            "ofmap_w of {}",
            layer.name
        );
        assert_eq!(
            want("ofmap_h"),
            Some(layer.ofmap_h()),
            "ofmap_h of {}",
            layer.name
        );
    }
    assert_eq!(
        want("num_macs"),
        Some(layer.num_macs()),
        "MACs of {}",
        layer.name
    );
}

#[test]
fn golden_scalesim_3_0_0() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/scalesim");
    let golden = dir.join("golden.csv");
    if !golden.exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "../shared is required under CI=true: a test that reads it must not skip"
        );
        println!("skipped: ../shared/scalesim not found");
        return;
    }
    let rows = read_golden(&golden);
    assert_eq!(rows.len(), 949, "golden.csv rows");

    let mut configs: HashMap<String, ArrayConfig> = HashMap::new();
    let mut topos: HashMap<String, Vec<Layer>> = HashMap::new();
    let mut jobs: Vec<(usize, ArrayConfig, Layer)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let cfg_path = row.s("config_file").to_string();
        let cfg = configs
            .entry(cfg_path.clone())
            .or_insert_with(|| load_config(dir.join(&cfg_path)).expect("config parses"))
            .clone();
        let topo_path = row.s("topology_file").to_string();
        let topo = topos
            .entry(topo_path.clone())
            .or_insert_with(|| load_topology(dir.join(&topo_path)).expect("topology parses"));
        let id: usize = row.s("layer_id").parse().expect("layer_id");
        let layer = topo.get(id).expect("layer id in range").clone();
        assert_eq!(layer.name, row.s("layer_name"));
        check_layer(row, &layer);
        assert_eq!(cfg.array_rows.to_string(), row.s("array_rows"));
        assert_eq!(cfg.dataflow.to_string(), row.s("dataflow"));
        jobs.push((i, cfg, layer));
    }

    // Two workers: the machine is shared, the model is single threaded per layer.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    let chunks: Vec<Vec<(usize, ArrayConfig, Layer)>> = (0..threads)
        .map(|t| jobs.iter().skip(t).step_by(threads).cloned().collect())
        .collect();
    let mut reports: Vec<Option<LayerReport>> = vec![None; rows.len()];
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(i, cfg, layer)| (*i, simulate_layer(cfg, layer)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (i, r) in h.join().expect("worker") {
                reports[i] = Some(r);
            }
        }
    });

    let verbose = std::env::var_os("XPUSIM_GOLDEN_VERBOSE").is_some();
    let mut table = String::from(
        "| metric | SCALE-Sim column | mean abs % error | max abs % error | exact rows |\n\
         |---|---|---|---|---|\n",
    );
    let mut failures = Vec::new();
    for &(field, col, max_mape, min_exact) in METRICS {
        let (mut sum, mut max, mut exact, mut shown) = (0.0f64, 0.0f64, 0usize, 0usize);
        for (row, rep) in rows.iter().zip(&reports) {
            let Some(rep) = rep else { continue };
            let (a, b) = (ours(rep, field), theirs(row, col));
            let pct = if same(a, b) {
                0.0
            } else if b == 0.0 {
                100.0
            } else {
                ((a - b) / b).abs() * 100.0
            };
            sum += pct;
            max = max.max(pct);
            if same(a, b) {
                exact += 1;
            } else if verbose && shown < 12 {
                shown += 1;
                println!(
                    "{field}: {} layer {} ({}): ours {a} golden {b}",
                    row.s("run_id"),
                    row.s("layer_id"),
                    row.s("layer_name")
                );
            }
        }
        let n = rows.len() as f64;
        let (mape, frac) = (sum / n, exact as f64 / n);
        table.push_str(&format!(
            "| `{field}` | {col} | {mape:.4} | {max:.4} | {exact}/{} ({:.1}%) |\n",
            rows.len(),
            frac * 100.0
        ));
        if mape > max_mape + 1e-12 || frac + 1e-12 < min_exact {
            failures.push(format!(
                "{field}: mean abs % error {mape:.4} (bound {max_mape}), exact {frac:.4} (bound {min_exact})"
            ));
        }
    }
    println!("{table}");
    if std::env::var_os("XPUSIM_WRITE_GOLDEN").is_some() {
        let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("GOLDEN_RESULTS.table.md");
        std::fs::write(out, &table).expect("write table");
    }
    assert!(
        failures.is_empty(),
        "golden bounds violated:\n{}",
        failures.join("\n")
    );
}
