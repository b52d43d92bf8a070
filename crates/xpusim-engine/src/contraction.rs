//! Tiling a contraction's loop nest onto a device.
//!
//! The mapping is output-stationary, the way GPU GEMM/implicit-GEMM kernels and
//! TPU-style matmul lowering work: the parallel (output) dimensions are cut into per-core
//! tiles, each tile streams the whole reduction through the core's buffer, and tiles are
//! issued in waves of `cores`. For each candidate tile (powers of two of the matrix-engine
//! granule along the "M" dims, which index the first input, and the "N" dims, which index
//! the second) the engine computes:
//! - compute: `waves × padded tile MACs / per-core MAC rate` — padding to the matrix tile
//!   (e.g. wgmma m64 on Hopper, 128×128 MXUs) and the last partial wave both cost; on the
//!   vector units (SIMT GEMMs, depthwise convolutions) the same tiles and waves, unpadded;
//! - traffic into the cores from the chip-level buffer (L2): `tiles × tile footprint`;
//! - off-chip traffic: the tiles of one wave share inputs through the chip-level buffer,
//!   so it is `super-tiles × super-tile footprint`, and an operand that fits in half the
//!   chip buffer is read once.
//!
//! It keeps the fastest candidate whose double-buffered working set fits the per-core
//! buffer. Footprints come from [`xpusim_ir::OperandAccess::footprint`], so sliding
//! windows and grouped channels are costed without knowing the op's name.
//!
//! Peers that use the same structure: Timeloop (Parashar et al., ISPASS 2019) and
//! LLMCompass (Zhang et al., ISCA 2024) for the tile search; wave quantisation is the
//! "tail effect" of NVIDIA's GEMM performance guide.

use xpusim_hw::{DeviceSpec, MemoryLevel};
use xpusim_ir::{LoopNest, Op, OpKind, Role};

use crate::cost::{merge, LevelTraffic, OpCost};
use crate::energy::throttle;
use crate::EngineError;

const MAXD: usize = 8;
/// Candidate tile sizes per group: granule × 2^0 … 2^MAX_DOUBLINGS.
const MAX_DOUBLINGS: u32 = 7;
/// Dependent kernels per recurrent step: the recurrent GEMM and the fused element-wise gate
/// kernel (see [`cost_nest`]).
pub const RECURRENT_STEP_KERNELS: u64 = 2;

/// Costs all contractions of a Matmul / Conv / Recurrent op as back-to-back kernels.
pub fn cost(op: &Op, dev: &DeviceSpec) -> Result<OpCost, EngineError> {
    // The geometry (which tiles fit, their waves and bytes) depends on the op's shape and
    // the device's, not on its rates: a sweep over clocks or bandwidths searches it once.
    let plans = crate::tile_memo::plans(op, dev, || {
        op.contractions()
            .iter()
            .map(|c| search_geometry(op, &c.nest, dev, c.sequential_steps.max(1)))
            .collect()
    });
    let mut parts = Vec::with_capacity(plans.len());
    for p in plans.iter() {
        parts.push(cost_nest(op, p, dev)?);
    }
    Ok(merge(parts))
}

/// Bytes that can stay on chip across kernels: the chip-level buffer, else all core buffers.
fn onchip_capacity(dev: &DeviceSpec) -> u64 {
    match dev.chip_buffer() {
        Some(l) => l.capacity_bytes,
        None => dev
            .core_buffer()
            .map(|l| l.capacity_bytes.saturating_mul(dev.cores))
            .unwrap_or(0),
    }
}

pub(crate) fn level_traffic(dev: &DeviceSpec, level: &str, bytes: u64) -> LevelTraffic {
    let bw = dev
        .memory
        .iter()
        .find(|m| m.name == level)
        .map(MemoryLevel::sustained_bps)
        .unwrap_or(f64::INFINITY);
    LevelTraffic {
        level: level.to_string(),
        bytes,
        time_s: bytes as f64 / bw,
        energy_j: 0.0,
    }
}

/// Dimension groups of a contraction, each in nest order (innermost last).
struct Groups {
    m: Vec<usize>,
    n: Vec<usize>,
    b: Vec<usize>,
    k: Vec<usize>,
}

fn classify(nest: &LoopNest) -> Groups {
    let ins: Vec<_> = nest.inputs().collect();
    let mut g = Groups {
        m: vec![],
        n: vec![],
        b: vec![],
        k: vec![],
    };
    for (d, dim) in nest.dims.iter().enumerate() {
        if dim.reduction {
            g.k.push(d);
            continue;
        }
        let u0 = ins.first().is_some_and(|a| a.uses(d));
        let u1 = ins.get(1).is_some_and(|a| a.uses(d));
        match (u0, u1) {
            (true, false) => g.m.push(d),
            (false, true) => g.n.push(d),
            _ => g.b.push(d),
        }
    }
    g
}

/// Spreads a tile of `target` elements over `dims`, innermost first; returns the number
/// of points the tile covers (≥ target unless the dims are smaller).
fn spread(target: u64, dims: &[usize], sizes: &[u64], t: &mut [u64; MAXD]) -> u64 {
    let mut rem = target.max(1);
    let mut covered = 1;
    for &d in dims.iter().rev() {
        let x = sizes[d].min(rem).max(1);
        t[d] = x;
        covered *= x;
        rem = rem.div_ceil(x);
    }
    covered
}

fn product(dims: &[usize], sizes: &[u64]) -> u64 {
    dims.iter().map(|&d| sizes[d]).product()
}

fn tile_count(dims: &[usize], sizes: &[u64], t: &[u64; MAXD]) -> u64 {
    dims.iter().map(|&d| sizes[d].div_ceil(t[d])).product()
}

fn candidates_of(total: u64, granule: u64) -> Vec<u64> {
    let padded = total.div_ceil(granule) * granule;
    let mut v = Vec::new();
    for i in 0..=MAX_DOUBLINGS {
        let c = (granule << i).min(padded);
        if v.last() != Some(&c) {
            v.push(c);
        }
        if c >= padded {
            break;
        }
    }
    v
}

/// No matrix engine for the op's format, or one no faster than the vector units: the matrix
/// path already is the vector units (FP32 GEMMs on V100 and T4 run as CUDA-core SGEMM; the
/// P100 and TITAN Xp presets list their CUDA-core rates as matrix rates), held to
/// `matrix.efficiency` like any GEMM kernel.
pub(crate) fn on_vector_units(op: &Op, dev: &DeviceSpec) -> bool {
    let (rate, used) = dev.matrix_flops(op.compute_dtype);
    !dev.matrix.peak_tflops.contains_key(&used) || rate <= dev.vector_flops(op.compute_dtype)
}

/// The rates a contraction's kernels sustain, FLOP/s: the matrix units at
/// `matrix.efficiency`, and the vector units — at their peak, or, where they already are
/// the matrix path, held to the same share (the same GEMM kernel without the tile padding:
/// priced without `matrix.efficiency` it would always win at 100 % of peak).
pub(crate) fn sustained_rates(op: &Op, dev: &DeviceSpec) -> (f64, f64) {
    let (rate, used) = dev.matrix_flops(op.compute_dtype);
    let efficiency = dev.matrix.efficiency_for(used);
    let vector_share = if on_vector_units(op, dev) {
        efficiency
    } else {
        1.0
    };
    (
        rate * efficiency,
        dev.vector_flops(op.compute_dtype) * vector_share,
    )
}

/// Costs `steps` dependent executions of one loop nest. Recurrent steps each wait for the
/// previous hidden state, so nothing overlaps across steps. Each step runs as cuDNN's
/// standard RNN algorithm runs it (`CUDNN_RNN_ALGO_STANDARD`, the default of cuDNN, PyTorch
/// and DeepBench): one GEMM of the recurrent weights (the gates' GEMMs combined) and then
/// one kernel of all the gates' element-wise work (Appleyard, Kocisky and Blunsom 2016,
/// "Optimizing Performance of Recurrent Neural Networks on GPUs", arXiv:1604.01946, §3, the
/// optimisations of cuDNN 5), two dependent launches per step. Weights that fit in half the
/// on-chip memory stay there after the first step, so later steps only move activations
/// off-chip. The tile is chosen for the total over all steps.
fn cost_nest(op: &Op, plans: &Plans, dev: &DeviceSpec) -> Result<OpCost, EngineError> {
    let steps = plans.steps;
    let kk = plans.reduction;
    let resident = plans.weights_resident;
    let (matrix_rate, vector_rate) = sustained_rates(op, dev);
    let core_rate = matrix_rate / 2.0 / dev.cores as f64;
    let core_vector_rate = vector_rate / 2.0 / dev.cores as f64;
    let core_buf = dev.core_buffer();
    let chip_buf = dev.chip_buffer();
    let off = dev.offchip();
    // Gate nonlinearities of one recurrent step run on the vector units after its GEMM.
    let pointwise = if steps > 1 && matches!(op.kind, OpKind::Recurrent(_)) {
        (op.vector_flops() / steps) as f64 / dev.vector_flops(op.compute_dtype)
    } else {
        0.0
    };
    let total_off = |plan: &Plan| {
        let saved = if resident {
            plan.weight_off_bytes * (steps - 1)
        } else {
            0
        };
        plan.off_bytes * steps - saved
    };

    let macs = plans.macs;
    // Dynamic energy that does not depend on the tile (arithmetic).
    let base_j =
        crate::energy::arithmetic_j(op, dev) * ((macs * steps) as f64 / op.macs().max(1) as f64);
    let mut best: Option<(f64, Plan)> = None;
    for c in plans.candidates.iter() {
        let compute = c.waves as f64 * c.tile_macs as f64 / core_rate;
        // Matrix engines waste most of their width on skinny shapes (depthwise convolutions,
        // N = 1 products); the vector units then win, as cuDNN's depthwise kernels do. They
        // run the same tiles, one per core per wave, without the matrix granule's padding:
        // a SIMT GEMM's last partial wave costs a whole one too.
        let vector = c.waves as f64 * c.vector_macs as f64 / core_vector_rate;
        let plan = Plan {
            compute,
            vector,
            tm: c.cover_m,
            tn: c.cover_n,
            waves: c.waves,
            chip_bytes: c.chip_bytes,
            off_bytes: c.off_bytes,
            weight_off_bytes: c.weight_off_bytes,
        };
        // The objective is the op's final time: the faster of matrix and vector units,
        // the traffic at each level, and the power cap on the dynamic energy.
        let unit_s = compute.min(vector);
        let mut core_s = steps as f64 * (unit_s + pointwise);
        let mut core_j = base_j;
        if let Some(cb) = chip_buf {
            let b = (plan.chip_bytes * steps) as f64;
            core_s = core_s.max(b / cb.sustained_bps());
            core_j += b * cb.energy_pj_per_byte * 1e-12;
        }
        let b = total_off(&plan) as f64;
        let off_j = b * off.energy_pj_per_byte * 1e-12;
        let time = throttle(dev, core_s, b / off.sustained_bps(), 0.0, core_j, off_j).work_s;
        if best.as_ref().is_none_or(|(bt, _)| time < *bt) {
            best = Some((time, plan));
        }
    }
    let smallest_need = plans.smallest_need;
    let Some((_, plan)) = best else {
        let cb = core_buf.map_or((String::new(), 0), |c| (c.name.clone(), c.capacity_bytes));
        return Err(EngineError::TileDoesNotFit {
            op: op.name.clone(),
            level: cb.0,
            need_bytes: smallest_need,
            capacity_bytes: cb.1,
        });
    };

    let (compute, unit) = if plan.vector < plan.compute {
        (plan.vector, "vector")
    } else {
        (plan.compute, "matrix")
    };
    let mut traffic = Vec::new();
    if let Some(cb) = chip_buf {
        traffic.push(level_traffic(dev, &cb.name, plan.chip_bytes * steps));
    }
    traffic.push(level_traffic(dev, &off.name, total_off(&plan)));
    // Every step is its own dependent launch; a recurrent step's gates are a second one.
    let kernels_per_step = if pointwise > 0.0 {
        RECURRENT_STEP_KERNELS as f64
    } else {
        1.0
    };
    let overhead =
        steps as f64 * (kernels_per_step * dev.overhead.launch_us * 1e-6 + off.latency_ns * 1e-9);
    let mut mapping = format!(
        "{unit}: tile {}x{}xK{} ({} waves over {} cores)",
        plan.tm, plan.tn, kk, plan.waves, dev.cores
    );
    if steps > 1 {
        mapping += &format!(
            " x {steps} dependent steps{}",
            if resident { ", weights on chip" } else { "" }
        );
    }
    Ok(OpCost::new(
        steps as f64 * (compute + pointwise),
        traffic,
        overhead,
        mapping,
    ))
}

/// One tile candidate's geometry: everything about it that does not depend on a rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Candidate {
    cover_m: u64,
    cover_n: u64,
    waves: u64,
    tile_macs: u64,
    /// MACs of one tile on the vector units: its points, unpadded.
    vector_macs: u64,
    chip_bytes: u64,
    off_bytes: u64,
    weight_off_bytes: u64,
}

/// The candidates whose double-buffered working set fits the core buffer, in search order
/// (the timing pass keeps the first of equal times, so the order is part of the result),
/// and the smallest working set seen, for the error when none fits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plans {
    candidates: Vec<Candidate>,
    smallest_need: u64,
    /// Product of the reduction dims (the K of the mapping label).
    reduction: u64,
    /// Weights fit in half the on-chip memory and stay there across recurrent steps.
    weights_resident: bool,
    /// MACs of one step of the nest, and its dependent steps.
    macs: u64,
    steps: u64,
}

/// The tile search's geometry pass: which tiles fit, how many waves each takes and the
/// bytes each moves at each level, and whether the weights stay on chip across recurrent
/// steps. Reads only what [`crate::tile_memo`] keys on: the op's shape (its nests and
/// steps), its operands' storage and roles, and the device's matrix tile, cores, cluster and
/// buffer capacities.
fn search_geometry(op: &Op, nest: &LoopNest, dev: &DeviceSpec, steps: u64) -> Plans {
    let nd = nest.dims.len().min(MAXD);
    let sizes: &[u64] = &nest.sizes();
    let g = &classify(nest);
    // Storage per operand, quantisation-group scales included.
    let bytes_of = |i: usize, elems: u64| {
        nest.operands
            .get(i)
            .and_then(|a| op.operands.get(a.operand))
            .map_or(elems * 2, |o| o.storage_bytes(elems))
    };
    let compulsory: &[u64] = &nest
        .operands
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let full: [u64; MAXD] = std::array::from_fn(|d| if d < nd { sizes[d] } else { 1 });
            bytes_of(i, a.footprint(&full))
        })
        .collect::<Vec<_>>();
    let roles: &[Role] = &op.operands.iter().map(|o| o.role).collect::<Vec<_>>();
    let weight_compulsory: u64 = nest
        .operands
        .iter()
        .enumerate()
        .filter(|(_, a)| roles.get(a.operand) == Some(&Role::Weight))
        .map(|(i, _)| compulsory[i])
        .sum();
    let kk = product(&g.k, sizes);
    let k_pad = kk.div_ceil(dev.matrix.tile[2]) * dev.matrix.tile[2];
    let [gm, gn, gk] = dev.matrix.tile;
    let (mm, nn) = (product(&g.m, sizes), product(&g.n, sizes));
    let core_buf = dev.core_buffer();
    let mut candidates = Vec::new();
    let mut smallest_need = u64::MAX;
    for &tm in &candidates_of(mm, gm) {
        for &tn in &candidates_of(nn, gn) {
            let mut t = [1u64; MAXD];
            let cover_m = spread(tm, &g.m, sizes, &mut t);
            let cover_n = spread(tn, &g.n, sizes, &mut t);
            // Capacity check: input tiles for one reduction chunk of 4 granules, double
            // buffered. Accumulators live in registers (GPUs) or a dedicated accumulator
            // SRAM (TPU-style arrays), not in the operand buffer.
            spread(4 * gk, &g.k, sizes, &mut t);
            let need = 2 * nest
                .operands
                .iter()
                .enumerate()
                .filter(|(_, a)| !a.is_output)
                .map(|(i, a)| bytes_of(i, a.footprint(&t)))
                .sum::<u64>();
            if let Some(cb) = core_buf {
                if need > cb.capacity_bytes {
                    smallest_need = smallest_need.min(need);
                    continue;
                }
            }
            for &d in &g.k {
                t[d] = sizes[d];
            }
            let tiles = tile_count(&g.m, sizes, &t)
                * tile_count(&g.n, sizes, &t)
                * tile_count(&g.b, sizes, &t);
            let waves = tiles.div_ceil(dev.cores);
            let tile_macs = cover_m.div_ceil(gm) * gm * cover_n.div_ceil(gn) * gn * k_pad;
            let vector_macs = cover_m * cover_n * kk;
            let plan = traffic_plan(nest, g, sizes, &t, tiles, dev, &bytes_of, compulsory, roles);
            candidates.push(Candidate {
                cover_m,
                cover_n,
                waves,
                tile_macs,
                vector_macs,
                chip_bytes: plan.chip_bytes,
                off_bytes: plan.off_bytes,
                weight_off_bytes: plan.weight_off_bytes,
            });
        }
    }
    let weights_resident = steps > 1 && weight_compulsory <= onchip_capacity(dev) / 2;
    if crate::tile_memo::enabled() {
        candidates = undominated(candidates, steps, weights_resident);
    }
    Plans {
        candidates,
        smallest_need,
        reduction: kk,
        weights_resident,
        macs: nest.macs(),
        steps,
    }
}

/// Drops every candidate that an earlier one dominates: no more matrix or vector work,
/// chip-buffer bytes or off-chip bytes. Each term of the timing objective (unit time, each
/// level's bytes over its bandwidth, the power-limited time of their energy) is
/// non-decreasing in those four for any non-negative rates, so the earlier candidate is
/// never slower, and the timing pass keeps the first of equal times: the dropped one could
/// never be chosen, and the choice is the same for every design sharing this geometry.
/// Keeps the memo small (a few candidates of up to 64) and its timing pass short.
fn undominated(cands: Vec<Candidate>, steps: u64, resident: bool) -> Vec<Candidate> {
    // The three quantities in u128: products of u64 counts cannot wrap.
    let terms = |c: &Candidate| {
        let off = c.off_bytes as u128 * steps as u128
            - if resident {
                c.weight_off_bytes as u128 * (steps - 1) as u128
            } else {
                0
            };
        (
            c.waves as u128 * c.tile_macs as u128,
            c.waves as u128 * c.vector_macs as u128,
            c.chip_bytes,
            off,
        )
    };
    let mut kept: Vec<(Candidate, (u128, u128, u64, u128))> = Vec::with_capacity(cands.len());
    for c in cands {
        let t = terms(&c);
        if !kept
            .iter()
            .any(|(_, k)| k.0 <= t.0 && k.1 <= t.1 && k.2 <= t.2 && k.3 <= t.3)
        {
            kept.push((c, t));
        }
    }
    kept.into_iter().map(|(c, _)| c).collect()
}

#[derive(Default)]
struct Plan {
    compute: f64,
    vector: f64,
    tm: u64,
    tn: u64,
    waves: u64,
    chip_bytes: u64,
    off_bytes: u64,
    weight_off_bytes: u64,
}

/// Traffic into the cores and from off-chip memory for tile `t` (reduction dims full).
#[allow(clippy::too_many_arguments)]
fn traffic_plan(
    nest: &LoopNest,
    g: &Groups,
    sizes: &[u64],
    t: &[u64; MAXD],
    tiles: u64,
    dev: &DeviceSpec,
    bytes_of: &dyn Fn(usize, u64) -> u64,
    compulsory: &[u64],
    roles: &[Role],
) -> Plan {
    let chip = dev.chip_buffer();
    let (tm_n, tn_n, tb_n) = (
        tile_count(&g.m, sizes, t),
        tile_count(&g.n, sizes, t),
        tile_count(&g.b, sizes, t),
    );
    // Cores of a cluster fetch a shared operand tile once (TMA multicast); try the
    // cluster along M and along N and keep the cheaper.
    let cl = dev.core_cluster.max(1);
    let mut per_op_tile = vec![0u64; nest.operands.len()];
    let mut chip_bytes = u64::MAX;
    for (am, an) in [(cl, 1), (1, cl)] {
        let (am, an) = (am.min(tm_n), an.min(tn_n));
        let mut ct = *t;
        let cm: u64 = g.m.iter().map(|&d| t[d]).product();
        let cn: u64 = g.n.iter().map(|&d| t[d]).product();
        spread(cm * am, &g.m, sizes, &mut ct);
        spread(cn * an, &g.n, sizes, &mut ct);
        let clusters = tm_n.div_ceil(am) * tn_n.div_ceil(an) * tb_n;
        let v: Vec<u64> = nest
            .operands
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if a.is_output {
                    compulsory[i]
                } else {
                    (clusters * bytes_of(i, a.footprint(&ct)))
                        .min(tiles * bytes_of(i, a.footprint(t)))
                }
            })
            .collect();
        let sum = v.iter().sum();
        if sum < chip_bytes {
            chip_bytes = sum;
            per_op_tile = v;
        }
    }
    // Off-chip: the concurrently running tiles of one wave form a super-tile whose inputs
    // are fetched once into the chip buffer. Choose the arrangement with least traffic.
    let off_in: Vec<u64> = match chip {
        None => per_op_tile.clone(),
        Some(cb) => {
            let conc = dev.cores.min(tiles).max(1);
            let mut best: Option<(u64, Vec<u64>)> = None;
            let mut an = 1u64;
            while an <= tn_n.min(conc) {
                let am = (conc / an).clamp(1, tm_n);
                let ab = (conc / (an * am)).clamp(1, tb_n);
                let mut st = *t;
                let cm: u64 = g.m.iter().map(|&d| t[d]).product();
                let cn: u64 = g.n.iter().map(|&d| t[d]).product();
                spread(cm * am, &g.m, sizes, &mut st);
                spread(cn * an, &g.n, sizes, &mut st);
                spread(ab, &g.b, sizes, &mut st);
                let n_super = tm_n.div_ceil(am) * tn_n.div_ceil(an) * tb_n.div_ceil(ab);
                let v: Vec<u64> = nest
                    .operands
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        if a.is_output || compulsory[i] <= cb.capacity_bytes / 2 {
                            compulsory[i]
                        } else {
                            (n_super * bytes_of(i, a.footprint(&st))).max(compulsory[i])
                        }
                    })
                    .collect();
                let s: u64 = v.iter().sum();
                if best.as_ref().is_none_or(|(bs, _)| s < *bs) {
                    best = Some((s, v));
                }
                an *= 2;
            }
            best.map(|b| b.1).unwrap_or_else(|| compulsory.to_vec())
        }
    };
    let off_bytes = off_in.iter().sum();
    let weight_off_bytes = nest
        .operands
        .iter()
        .enumerate()
        .filter(|(_, a)| roles.get(a.operand) == Some(&Role::Weight))
        .map(|(i, _)| off_in[i])
        .sum();
    Plan {
        chip_bytes,
        off_bytes,
        weight_off_bytes,
        ..Plan::default()
    }
}
