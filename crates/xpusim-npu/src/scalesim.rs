//! A SCALE-Sim `.cfg` as an xpusim device: [`device_from_scalesim`] turns an
//! [`ArrayConfig`] into a [`DeviceSpec`] with an `[array]` section, so that SCALE-Sim
//! design points run through the same device schema (and the same mapping search) as the
//! cited presets.
//!
//! What the config states, and how it maps:
//! - `ArrayHeight` × `ArrayWidth` → `array.rows` × `array.cols`; one core, one array.
//! - `Dataflow` → `array.dataflows` (that one only, as SCALE-Sim runs it).
//! - `IfmapSramSzkB` + `FilterSramSzkB` + `OfmapSramSzkB` (× 1024 B) → one core-scope level
//!   `sram` holding all three operands. SCALE-Sim keeps half of each SRAM active (double
//!   buffering), which is also how the mapper holds tiles, so the capacity is the sum.
//! - Words are one byte (SCALE-Sim hard-codes it), so the natural format is `int8`.
//! - DRAM bandwidth: in USER mode the ifmap, filter and ofmap DRAM bandwidths
//!   (`IfmapSRAMBankBandwidth`, `FilterSRAMBankBandwidth`, first `Bandwidth`) in words/cycle,
//!   summed into the one `dram` level; in CALC mode SCALE-Sim never stalls on DRAM, so the
//!   level gets [`CALC_DRAM_BYTES_PER_CYCLE`], a rate the mapper never binds on.
//!
//! What the config does not state (all listed in the device's `unverified`):
//! - the clock: [`CLOCK_GHZ`] = 1 GHz, so cycles are nanoseconds;
//! - the process node: [`NODE_NM`] = 45 nm, the node of the energy tables' reference
//!   points, so their values apply unscaled;
//! - energies and areas, from [`crate::energy`]'s tables: MAC datapath
//!   ([`energy::MAC_45NM_PJ`]), PE registers ([`energy::REG_45NM_PJ_PER_BYTE`]), SRAM per
//!   byte for an SRAM the size of the largest of the three ([`energy::sram_pj_per_byte`]),
//!   DRAM per byte ([`energy::DRAM_PJ_PER_BYTE`]); the engine's `energy.mac_pj` is the
//!   datapath plus three register accesses;
//! - SRAM bandwidth: what the array reads and writes per cycle at most (`rows` ifmap +
//!   `cols` filter words in, `cols` ofmap words out), so the SRAM never binds where SCALE-Sim
//!   has no SRAM-port limit;
//! - DRAM capacity ([`DRAM_BYTES`]), power, vector rate and launch overhead (engine-only
//!   fields SCALE-Sim has no notion of; filled with stated placeholders).

use xpusim_hw::DeviceSpec;
use xpusim_ir::DType;
use xpusim_systolic::{ArrayConfig, BandwidthMode};

use crate::energy;
use crate::error::ArchError;

/// Clock assumed for a SCALE-Sim config, GHz (SCALE-Sim counts cycles only).
pub const CLOCK_GHZ: f64 = 1.0;
/// Process node assumed for a SCALE-Sim config, nm: the energy tables' reference node.
pub const NODE_NM: f64 = 45.0;
/// DRAM bandwidth of a CALC-mode config, bytes per cycle: SCALE-Sim's CALC mode never
/// stalls on DRAM, so the level gets a rate no layer reaches.
pub const CALC_DRAM_BYTES_PER_CYCLE: f64 = 1e6;
/// DRAM capacity of a SCALE-Sim config (not stated by SCALE-Sim), bytes.
pub const DRAM_BYTES: u64 = 1 << 36;

/// The device a SCALE-Sim config describes (see the module docs for every assumption).
/// Fails when the config's numbers do not make a valid device (e.g. a zero-sized SRAM); the
/// message names the field.
pub fn device_from_scalesim(cfg: &ArrayConfig) -> Result<DeviceSpec, ArchError> {
    let (rows, cols) = (cfg.array_rows, cfg.array_cols);
    let dataflow = match cfg.dataflow {
        xpusim_systolic::Dataflow::Os => "os",
        xpusim_systolic::Dataflow::Ws => "ws",
        xpusim_systolic::Dataflow::Is => "is",
    };
    let kb = |k: u64| k.saturating_mul(1024);
    let sram_bytes = kb(cfg.ifmap_sram_kb)
        .saturating_add(kb(cfg.filter_sram_kb))
        .saturating_add(kb(cfg.ofmap_sram_kb));
    let largest = kb(cfg
        .ifmap_sram_kb
        .max(cfg.filter_sram_kb)
        .max(cfg.ofmap_sram_kb));
    let node_factor = energy::node_energy_factor(NODE_NM);
    let sram_pj = energy::sram_pj_per_byte(largest, NODE_NM);
    let mac_pj = energy::MAC_45NM_PJ
        .iter()
        .find(|(d, _)| *d == DType::Int8)
        .map_or(0.3, |(_, e)| *e)
        * node_factor;
    let mac_um2 = energy::MAC_45NM_UM2
        .iter()
        .find(|(d, _)| *d == DType::Int8)
        .map_or(419.0, |(_, a)| *a);
    let reg_pj = energy::REG_45NM_PJ_PER_BYTE * node_factor;
    let (dram_bpc, dram_note) = match cfg.bandwidth_mode {
        BandwidthMode::User => (
            (cfg.ifmap_dram_bandwidth + cfg.filter_dram_bandwidth + cfg.ofmap_dram_bandwidth())
                as f64,
            format!(
                "USER mode: ifmap {} + filter {} + ofmap {} words/cycle, 1 B words",
                cfg.ifmap_dram_bandwidth,
                cfg.filter_dram_bandwidth,
                cfg.ofmap_dram_bandwidth()
            ),
        ),
        BandwidthMode::Calc => (
            CALC_DRAM_BYTES_PER_CYCLE,
            "CALC mode: SCALE-Sim never stalls on DRAM; a rate no layer reaches".to_string(),
        ),
    };
    let sram_bpc = (rows + 2 * cols) as f64;
    let peak_tops = (rows * cols) as f64 * 2.0 * CLOCK_GHZ * 1e-3;
    let run = if cfg.run_name.is_empty() {
        format!("{rows}x{cols}_{dataflow}")
    } else {
        cfg.run_name.clone()
    };
    let name = format!("scalesim-{}", run.to_ascii_lowercase());
    let file = format!("SCALE-Sim config `{run}`");
    let toml = format!(
        r#"name = {name:?}
display_name = {display:?}
vendor = "SCALE-Sim config"
class = "npu"
natural_dtype = "int8"
clock_ghz = {CLOCK_GHZ:?}
cores = 1
process_node_nm = {NODE_NM:?}
unverified = ["clock_ghz", "process_node_nm", "matrix.efficiency", "vector", "memory[0].bandwidth_gbps", "memory[0].energy_pj_per_byte", "memory[1].capacity_bytes", "memory[1].energy_pj_per_byte", "memory.latency_ns", "overhead", "power", "energy", "array.mac_energy_pj", "array.mac_area_um2", "array.reg_accesses_per_mac", "array.reg_energy_pj_per_byte", "array.reg_bytes_per_pe", "array.core_leakage_mw"]

[matrix]
peak_tflops = {{ int8 = {peak_tops:?} }}
tile = [1, {cols}, {rows}]
efficiency = 1.0

[vector]
peak_tflops = {{ fp32 = {vec_tflops:?} }}

[[memory]]
name = "sram"
scope = "core"
capacity_bytes = {sram_bytes}
bandwidth_gbps = {sram_gbps:?}
efficiency = 1.0
latency_ns = 0.0
energy_pj_per_byte = {sram_pj:?}

[[memory]]
name = "dram"
scope = "offchip"
capacity_bytes = {DRAM_BYTES}
bandwidth_gbps = {dram_gbps:?}
efficiency = 1.0
latency_ns = 0.0
energy_pj_per_byte = {dram_pj:?}

[overhead]
launch_us = 0.0

[power]
tdp_w = {tdp_w:?}
idle_w = 0.0

[energy]
mac_pj = {{ int8 = {engine_mac:?} }}
vector_flop_pj = {engine_mac:?}

[array]
rows = {rows}
cols = {cols}
dataflows = [{dataflow:?}]
mac_energy_pj = {{ int8 = {mac_pj:?} }}
mac_area_um2 = {{ int8 = {mac_um2:?} }}
reg_accesses_per_mac = 3.0
reg_energy_pj_per_byte = {reg_pj:?}
reg_bytes_per_pe = 3
core_leakage_mw = 0.0
noc_energy_pj_per_byte_hop = 0.0
noc_avg_hops = 0.0

[sources]
"array" = {src_array:?}
"matrix.peak_tflops" = "rows x cols x 2 x the assumed 1 GHz"
"memory[0]" = {src_sram:?}
"memory[1]" = {src_dram:?}
"energy" = "xpusim-npu energy.rs tables at 45 nm (Horowitz ISSCC 2014); energy.mac_pj = the [array] datapath + 3 register accesses of 1 B"
"#,
        display = format!("SCALE-Sim {run} ({rows}x{cols} {dataflow})"),
        vec_tflops = cols as f64 * 2.0 * CLOCK_GHZ * 1e-3,
        sram_gbps = sram_bpc * CLOCK_GHZ,
        dram_gbps = dram_bpc * CLOCK_GHZ,
        dram_pj = energy::DRAM_PJ_PER_BYTE,
        tdp_w = (peak_tops * 1e12 / 2.0 * (mac_pj + 3.0 * reg_pj) * 1e-12).max(1e-3),
        engine_mac = mac_pj + 3.0 * reg_pj,
        src_array = format!(
            "{file}: ArrayHeight {rows}, ArrayWidth {cols}, Dataflow {dataflow}; one core"
        ),
        src_sram = format!(
            "{file}: ifmap {} + filter {} + ofmap {} kB SRAM as one level; bandwidth = rows + 2 cols \
             words/cycle (the array's demand), energy of a {largest} B SRAM (energy.rs)",
            cfg.ifmap_sram_kb, cfg.filter_sram_kb, cfg.ofmap_sram_kb
        ),
        src_dram = format!("{file}: {dram_note}"),
    );
    Ok(DeviceSpec::from_toml(&file, &toml)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NpuArch;
    use xpusim_systolic::Dataflow;

    #[test]
    fn user_mode_config_states_array_srams_and_dram_bandwidth() {
        let mut cfg = ArrayConfig::new(32, 16, Dataflow::Ws, [64, 32, 16]);
        cfg.run_name = "32x16_ws_USER".into();
        cfg.bandwidth_mode = BandwidthMode::User;
        cfg.bandwidth = vec![4];
        cfg.ifmap_dram_bandwidth = 10;
        cfg.filter_dram_bandwidth = 6;
        let dev = device_from_scalesim(&cfg).expect("valid device");
        assert_eq!(dev.name, "scalesim-32x16_ws_user");
        assert_eq!(dev.natural_dtype, DType::Int8);
        assert!(dev.unverified.iter().any(|u| u == "clock_ghz"));
        let a = NpuArch::from_device(&dev).expect("has an [array]");
        assert_eq!((a.cores, a.array.rows, a.array.cols), (1, 32, 16));
        assert_eq!(a.array.dataflows, vec![crate::Dataflow::Ws]);
        assert_eq!(a.memory[0].capacity_bytes, (64 + 32 + 16) * 1024);
        assert_eq!(a.memory[0].bandwidth_bytes_per_cycle, 32.0 + 2.0 * 16.0);
        assert_eq!(a.memory[1].bandwidth_bytes_per_cycle, 10.0 + 6.0 + 4.0);
        // The engine's per-MAC energy is the datapath plus three register accesses.
        let engine = dev.energy.mac_pj[&DType::Int8];
        let regs = 3.0 * a.array.reg_energy_pj_per_byte;
        assert!((engine - a.mac_pj(DType::Int8) - regs).abs() < 1e-12);
    }

    #[test]
    fn a_zero_sram_config_is_an_error_naming_the_field() {
        let cfg = ArrayConfig::new(8, 8, Dataflow::Os, [0, 0, 0]);
        let e = device_from_scalesim(&cfg).expect_err("no SRAM").to_string();
        assert!(e.contains("memory[0].capacity_bytes"), "{e}");
    }
}
