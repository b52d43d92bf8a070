//! Per-action energy, leakage and area for components whose preset gives no explicit value,
//! in the style of Accelergy's table-based plug-ins: a small table of published reference
//! points, interpolated in log-log space, then scaled to the target process node.
//!
//! Sources:
//! - SRAM access energy at 45 nm: M. Horowitz, "Computing's energy problem", ISSCC 2014,
//!   64-bit reads: 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ. Between and beyond the points the
//!   energy grows ~ capacity^0.5, the bit-line/word-line scaling CACTI 7 (Balasubramonian et
//!   al., TACO 2017) predicts for a fixed banking; we extrapolate with the end slopes.
//! - Node scaling of dynamic energy: Stillmaker & Baas, "Scaling equations for the accurate
//!   prediction of CMOS device performance from 180 nm to 7 nm", Integration 58 (2017),
//!   energy per operation at nominal supply relative to 45 nm. The factors below are
//!   rounded readings of their fitted curves (`UNVERIFIED_NODE_FACTORS`); 5 nm is our
//!   extrapolation of the 10→7 nm step.
//! - SRAM bit-cell areas: Intel 45 nm 0.346 µm² (Mistry et al., IEDM 2007); TSMC 28 nm HD
//!   0.127 µm²; TSMC 16FF+ 0.074 µm²; TSMC N7 0.027 µm² (Jeong et al., IEDM 2017 era
//!   disclosures); TSMC N5 0.021 µm² (Yeap et al., IEDM 2019). Macro area = cells / array
//!   efficiency ([`SRAM_ARRAY_EFFICIENCY`], an estimate).

/// MAC datapath energy at 45 nm by format, pJ (Horowitz ISSCC 2014: int8 mult 0.2 + int32
/// add 0.1; fp16 mult 1.1 + fp32 add 0.9; fp32 mult 3.7 + add 0.9). The presets' datapath
/// energies are these scaled by [`node_energy_factor`].
pub const MAC_45NM_PJ: [(xpusim_ir::DType, f64); 4] = [
    (xpusim_ir::DType::Int8, 0.3),
    (xpusim_ir::DType::Fp16, 2.0),
    (xpusim_ir::DType::Bf16, 2.0),
    (xpusim_ir::DType::Fp32, 4.6),
];

/// MAC datapath area at 45 nm by format, µm² (Horowitz ISSCC 2014: int8 mult 282 + int32
/// add 137; fp16 mult 1640 + fp32 add 4184; fp32 mult 7700 + add 4184).
pub const MAC_45NM_UM2: [(xpusim_ir::DType, f64); 4] = [
    (xpusim_ir::DType::Int8, 419.0),
    (xpusim_ir::DType::Fp16, 5824.0),
    (xpusim_ir::DType::Bf16, 5824.0),
    (xpusim_ir::DType::Fp32, 11884.0),
];

/// PE pipeline-register energy per byte at 45 nm, pJ: well below an 8 KB SRAM's 1.25 pJ/B
/// (Horowitz ISSCC 2014). Estimate, as in the device presets' `[array]` sections.
pub const REG_45NM_PJ_PER_BYTE: f64 = 0.1;

/// Off-chip DRAM energy per byte, pJ: Horowitz ISSCC 2014 gives 1.3–2.6 nJ per 64-bit DRAM
/// access at 45 nm; 1.3 nJ / 8 B ≈ 160 pJ/B, the low end. DRAM energy does not follow the
/// logic node, so it is not scaled.
pub const DRAM_PJ_PER_BYTE: f64 = 160.0;

/// Bytes and pJ per byte of the 45 nm reference points (Horowitz ISSCC 2014, 64-bit reads).
const SRAM_45NM_PJ_PER_BYTE: [(f64, f64); 3] = [
    (8.0 * 1024.0, 10.0 / 8.0),
    (32.0 * 1024.0, 20.0 / 8.0),
    (1024.0 * 1024.0, 100.0 / 8.0),
];

/// Dynamic energy per operation relative to 45 nm (Stillmaker & Baas 2017, nominal Vdd),
/// rounded readings; unverified against the paper's coefficient tables.
pub const UNVERIFIED_NODE_FACTORS: [(f64, f64); 9] = [
    (65.0, 1.8),
    (45.0, 1.0),
    (32.0, 0.67),
    (22.0, 0.46),
    (16.0, 0.34),
    (14.0, 0.30),
    (10.0, 0.22),
    (7.0, 0.16),
    (5.0, 0.12),
];

/// SRAM bit-cell area, µm², by node (sources in the module docs).
const BITCELL_UM2: [(f64, f64); 6] = [
    (65.0, 0.52),
    (45.0, 0.346),
    (28.0, 0.127),
    (16.0, 0.074),
    (7.0, 0.027),
    (5.0, 0.021),
];

/// Fraction of an SRAM macro that is bit cells (the rest: decoders, sense amps, I/O).
/// Estimate: compiled macros of a few hundred KB typically reach 0.5–0.7.
pub const SRAM_ARRAY_EFFICIENCY: f64 = 0.6;

/// Flip-flop register files take several times the area of SRAM per bit (standard-cell
/// flops ~ 5x a 6T cell). Estimate.
pub const REGFILE_AREA_OVER_SRAM: f64 = 5.0;

/// Leakage of a low-leakage SRAM bit at 45 nm, nW. Estimate (unverified): order of
/// magnitude of CACTI 7's LSTP cells; scaled by the node energy factor.
pub const SRAM_LEAKAGE_NW_PER_BIT_45NM: f64 = 0.05;

/// Piecewise-linear interpolation of `table` (x descending or ascending) in log-log space,
/// extrapolating with the end segments.
fn loglog(table: &[(f64, f64)], x: f64) -> f64 {
    let mut t: Vec<(f64, f64)> = table.iter().map(|&(a, b)| (a.ln(), b.ln())).collect();
    t.sort_by(|a, b| a.0.total_cmp(&b.0));
    let lx = x.max(f64::MIN_POSITIVE).ln();
    let i = t
        .windows(2)
        .position(|w| lx <= w[1].0)
        .unwrap_or(t.len() - 2);
    let (a, b) = (t[i], t[i + 1]);
    let y = a.1 + (b.1 - a.1) * (lx - a.0) / (b.0 - a.0);
    y.exp()
}

/// Dynamic-energy factor of `node_nm` relative to 45 nm.
pub fn node_energy_factor(node_nm: f64) -> f64 {
    loglog(&UNVERIFIED_NODE_FACTORS, node_nm)
}

/// SRAM read energy per byte for a macro of `capacity_bytes` at `node_nm`, pJ.
pub fn sram_pj_per_byte(capacity_bytes: u64, node_nm: f64) -> f64 {
    loglog(&SRAM_45NM_PJ_PER_BYTE, capacity_bytes.max(1) as f64) * node_energy_factor(node_nm)
}

/// SRAM leakage for `capacity_bytes` at `node_nm`, mW.
pub fn sram_leakage_mw(capacity_bytes: u64, node_nm: f64) -> f64 {
    capacity_bytes as f64 * 8.0 * SRAM_LEAKAGE_NW_PER_BIT_45NM * node_energy_factor(node_nm) * 1e-6
}

/// SRAM macro area for `capacity_bytes` at `node_nm`, mm².
pub fn sram_area_mm2(capacity_bytes: u64, node_nm: f64) -> f64 {
    capacity_bytes as f64 * 8.0 * loglog(&BITCELL_UM2, node_nm) / SRAM_ARRAY_EFFICIENCY * 1e-6
}

/// Scales an energy quoted at `from_nm` to `to_nm`.
pub fn scale_energy(pj: f64, from_nm: f64, to_nm: f64) -> f64 {
    pj * node_energy_factor(to_nm) / node_energy_factor(from_nm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_points_are_reproduced() {
        assert!((sram_pj_per_byte(32 * 1024, 45.0) - 2.5).abs() < 1e-9);
        assert!((sram_pj_per_byte(1 << 20, 45.0) - 12.5).abs() < 1e-9);
        assert!((node_energy_factor(7.0) - 0.16).abs() < 1e-9);
        assert!((sram_area_mm2(1 << 20, 7.0) - 8.0 * 1048576.0 * 0.027 / 0.6 * 1e-6).abs() < 1e-9);
    }

    #[test]
    fn energy_grows_with_size_and_shrinks_with_node() {
        let mut last = 0.0;
        for kb in [1u64, 4, 16, 64, 256, 1024, 8192, 65536] {
            let e = sram_pj_per_byte(kb * 1024, 7.0);
            assert!(e > last);
            last = e;
        }
        assert!(node_energy_factor(5.0) < node_energy_factor(7.0));
        assert!(scale_energy(1.0, 45.0, 7.0) < 0.2);
    }
}
