//! The mapper's compute model against SCALE-Sim 3.0.0: on every golden row, the device that
//! the row's SCALE-Sim config describes (`device_from_scalesim`), given one core and
//! unbounded buffers, must reproduce SCALE-Sim's stall-free cycle count exactly
//! (`Total Cycles − Stall Cycles`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use xpusim_ir::{DType, Precision};
use xpusim_npu::{device_from_scalesim, map_problem, NpuArch, Objective, Problem};
use xpusim_systolic::{load_config, load_topology};

/// The mapper's view of the converted device with unbounded capacities and bandwidths.
fn unbounded(mut arch: NpuArch) -> NpuArch {
    assert_eq!(arch.cores, 1);
    for m in &mut arch.memory {
        m.capacity_bytes = 1 << 50;
        m.bandwidth_bytes_per_cycle = 1e15;
    }
    arch
}

#[test]
fn compute_cycles_match_scalesim_on_every_golden_row() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/scalesim");
    let Ok(text) = std::fs::read_to_string(dir.join("golden.csv")) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "../shared is required under CI=true: a test that reads it must not skip"
        );
        println!("skipped: shared/scalesim/golden.csv not present");
        return;
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let (c_cfg, c_topo, c_rows, c_cols, c_df, c_layer) = (
        col("config_file"),
        col("topology_file"),
        col("array_rows"),
        col("array_cols"),
        col("dataflow"),
        col("layer_id"),
    );
    let (c_total, c_stall) = (col("Total Cycles"), col("Stall Cycles"));
    let mut topologies = BTreeMap::new();
    let mut archs = BTreeMap::new();
    let (mut checked, mut diffs) = (0, Vec::new());
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let layers = topologies
            .entry(f[c_topo].to_string())
            .or_insert_with(|| load_topology(dir.join(f[c_topo])).expect("topology parses"));
        let layer = &layers[f[c_layer].parse::<usize>().expect("layer id")];
        let arch = archs.entry(f[c_cfg].to_string()).or_insert_with(|| {
            let cfg = load_config(dir.join(f[c_cfg])).expect("config parses");
            let dev = device_from_scalesim(&cfg).expect("a valid device");
            unbounded(NpuArch::from_device(&dev).expect("has an [array]"))
        });
        assert_eq!(arch.array.rows.to_string(), f[c_rows]);
        assert_eq!(arch.array.cols.to_string(), f[c_cols]);
        assert_eq!(arch.array.dataflows[0].name(), f[c_df]);
        let op = xpusim_scalesim::layer_op(layer, Precision::uniform(DType::Int8))
            .expect("layer lowers");
        let pb = &Problem::from_op(&op).expect("problem")[0];
        let m = map_problem(pb, arch, DType::Int8, Objective::Latency).expect("maps");
        let total: u64 = f[c_total].parse().expect("total");
        let stall: u64 = f[c_stall].parse().expect("stall");
        if m.compute_cycles != total - stall {
            diffs.push(format!(
                "{} {}: {} vs {}",
                f[0],
                layer.name,
                m.compute_cycles,
                total - stall
            ));
        }
        checked += 1;
    }
    assert!(checked > 900, "only {checked} rows");
    assert!(
        diffs.is_empty(),
        "{} differences: {:?}",
        diffs.len(),
        &diffs[..diffs.len().min(10)]
    );
}
