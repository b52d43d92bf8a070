//! The mapper's compute model against SCALE-Sim 3.0.0: on every golden row, an NPU with the
//! row's array and dataflow and unbounded buffers must reproduce SCALE-Sim's stall-free
//! cycle count exactly (`Total Cycles − Stall Cycles`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use xpusim_ir::{DType, Precision};
use xpusim_npu::arch::{ArrayArch, NocArch};
use xpusim_npu::{map_problem, Dataflow, MemLevel, NpuArch, Objective, Problem, Scope};
use xpusim_systolic::load_topology;

fn unbounded(rows: u64, cols: u64, df: Dataflow) -> NpuArch {
    let level = |name: &str, scope| MemLevel {
        name: name.to_string(),
        scope,
        capacity_bytes: 1 << 50,
        bandwidth_bytes_per_cycle: 1e15,
        read_pj_per_byte: Some(1.0),
        write_pj_per_byte: Some(1.0),
        leakage_mw: Some(0.0),
        area_mm2: Some(0.0),
    };
    NpuArch {
        name: "golden".into(),
        display_name: "golden".into(),
        clock_ghz: 1.0,
        cores: 1,
        process_node_nm: 45.0,
        array: ArrayArch {
            rows,
            cols,
            dataflows: vec![df],
            mac_energy_pj: BTreeMap::from([("int8".to_string(), 1.0)]),
            mac_area_um2: BTreeMap::new(),
            reg_accesses_per_mac: 0.0,
            reg_energy_pj_per_byte: 0.0,
            reg_bytes_per_pe: 0,
        },
        memory: vec![level("sram", Scope::Core), level("dram", Scope::Offchip)],
        noc: NocArch {
            energy_pj_per_byte_hop: 0.0,
            avg_hops: 0.0,
        },
        core_leakage_mw: 0.0,
        unverified: vec![],
        sources: BTreeMap::new(),
    }
}

#[test]
fn compute_cycles_match_scalesim_on_every_golden_row() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/scalesim");
    let Ok(text) = std::fs::read_to_string(dir.join("golden.csv")) else {
        println!("skipped: shared/scalesim/golden.csv not present");
        return;
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let (c_topo, c_rows, c_cols, c_df, c_layer) = (
        col("topology_file"),
        col("array_rows"),
        col("array_cols"),
        col("dataflow"),
        col("layer_id"),
    );
    let (c_total, c_stall) = (col("Total Cycles"), col("Stall Cycles"));
    let mut topologies = BTreeMap::new();
    let (mut checked, mut diffs) = (0, Vec::new());
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let layers = topologies
            .entry(f[c_topo].to_string())
            .or_insert_with(|| load_topology(dir.join(f[c_topo])).expect("topology parses"));
        let layer = &layers[f[c_layer].parse::<usize>().expect("layer id")];
        let df = match f[c_df] {
            "os" => Dataflow::Os,
            "ws" => Dataflow::Ws,
            _ => Dataflow::Is,
        };
        let arch = unbounded(
            f[c_rows].parse().expect("rows"),
            f[c_cols].parse().expect("cols"),
            df,
        );
        let op = xpusim_npu::topology::layer_op(layer, Precision::uniform(DType::Int8))
            .expect("layer lowers");
        let pb = &Problem::from_op(&op).expect("problem")[0];
        let m = map_problem(pb, &arch, DType::Int8, Objective::Latency).expect("maps");
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
