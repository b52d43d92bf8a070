//! Mapping search: for each contraction choose a dataflow (which groups sit on array rows,
//! columns and time), a core split, tile sizes at every on-chip level and a loop order at
//! every level boundary, minimising latency, energy or EDP.
//!
//! Cost model (per core, all cores run the same share):
//! - Compute: SCALE-Sim's fold model (`xpusim_systolic::compute`): `ceil(Sr/R)·ceil(Sc/C)`
//!   folds per group instance, each `T + R + C − 2` cycles (os) or `T + 2R + C − 2` (ws/is).
//!   Cutting `T` into `nT` chunks at the innermost level repeats the fill/drain overhead per
//!   chunk. With one chunk and one core this is SCALE-Sim's stall-free cycle count exactly.
//! - Array-side accesses of the innermost level: SCALE-Sim's closed-form SRAM counts (the
//!   stationary operand once per fold and chunk, streamed operands once per fold of the
//!   other spatial axis).
//! - Traffic across a level boundary: footprint of the inner tile (real dims, halos
//!   included) times the trip counts of the loops above it, except the loops that do not
//!   index the operand and sit inside its innermost indexing loop (stationarity, the
//!   Timeloop/ZigZag reuse rule). Output partial sums are read back once per extra visit.
//! - Capacity: every level holds two copies (double buffering) of the tiles of all three
//!   operands; shared (chip) levels hold each core's copy of the operands the core split
//!   indexes and one copy of the rest.
//! - Latency: `max(compute, Σ traffic / bandwidth per level)` plus the first tile's fill
//!   from off-chip (double buffering hides every later transfer).
//! - Energy: MACs × MAC energy + PE-register traffic + accesses × per-byte energy at both
//!   ends of every boundary + NoC byte-hops + leakage × latency.
//!
//! Search space pruning (each rule keeps an optimum of the model above): spatial tiles are
//! multiples of the array size (or the whole extent); for a fixed spatial tile the
//! temporal tile is the largest that fits (fewer chunks never cost more compute or
//! traffic); orders only permute loops with trip count > 1.

use xpusim_ir::{DType, Graph};

use crate::arch::{Dataflow, NpuArch, Scope};
use crate::error::MapperError;
use crate::problem::{Problem, GROUP_NAMES, N, P, USES, W};
pub use crate::report::{EnergyBreakdown, GraphMapping, LevelMapping, Objective, OpMapping};

struct Eval {
    cycles: u64,
    compute: u64,
    energy: EnergyBreakdown,
    traffic: Vec<u64>,
    levels: Vec<LevelMapping>,
}

fn roles(df: Dataflow) -> (usize, usize, usize) {
    match df {
        Dataflow::Os => (P, N, W),
        Dataflow::Ws => (W, N, P),
        Dataflow::Is => (W, P, N),
    }
}

/// Candidate tiles of extent `ext` in steps of `unit`: unit·2^k below the extent, and it.
fn candidates(ext: u64, unit: u64) -> Vec<u64> {
    let mut v = Vec::new();
    let mut t = unit.max(1);
    while t < ext {
        v.push(t);
        t *= 2;
    }
    v.push(ext.max(1));
    v
}

/// Trip-count multiplier of operand `x` for loops `loops` (outermost first, (group,
/// count)): all trips down to the innermost loop indexing `x`.
fn refetch(x: usize, loops: &[(usize, u64)]) -> u64 {
    let inner = loops.iter().rposition(|&(g, n)| n > 1 && USES[x][g]);
    match inner {
        None => 1,
        Some(i) => loops[..=i].iter().map(|l| l.1).product(),
    }
}

/// Distinct orders of the groups with trip count > 1 (outermost first).
fn orders(counts: &[u64; 4]) -> Vec<Vec<usize>> {
    let live: Vec<usize> = (0..4).filter(|&g| counts[g] > 1).collect();
    let mut out = Vec::new();
    permute(&live, &mut Vec::new(), &mut out);
    out
}

fn permute(rest: &[usize], cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    if rest.is_empty() {
        out.push(cur.clone());
        return;
    }
    for i in 0..rest.len() {
        cur.push(rest[i]);
        let mut r = rest.to_vec();
        r.remove(i);
        permute(&r, cur, out);
        cur.pop();
    }
}

struct Ctx<'a> {
    arch: &'a NpuArch,
    pb: &'a Problem,
    df: Dataflow,
    split: Option<usize>,
    /// Per-core extents.
    ext: [u64; 4],
    mac_pj: f64,
    compute_bytes: f64,
    /// Per-level costs and chip leakage, computed once (they involve table lookups).
    costs: Vec<crate::arch::LevelCost>,
    leakage_w: f64,
    /// Output elements of one core's share.
    out_total: u64,
}

impl Ctx<'_> {
    /// Copies of operand `x` a level holds (cores' private copies at shared levels).
    fn copies(&self, level: usize, x: usize) -> u64 {
        let shared = self.arch.memory[level].scope != Scope::Core;
        match self.split {
            Some(s) if shared && USES[x][s] => self.arch.cores,
            _ => 1,
        }
    }

    fn held_bytes(&self, level: usize, fp: &[u64; 3]) -> u64 {
        let b: f64 = (0..3)
            .map(|x| fp[x] as f64 * self.pb.elem_bytes[x] * self.copies(level, x) as f64)
            .sum();
        2 * b.ceil() as u64
    }

    fn footprints(&self, tile: &[u64; 4]) -> [u64; 3] {
        [0, 1, 2].map(|x| self.pb.footprint(x, tile))
    }

    /// Full cost of tiles (innermost first) with `orders[l]` = loop order above level l.
    /// `detail` builds the per-level report (names, tiles, orders); the search skips it.
    fn eval(
        &self,
        tiles: &[[u64; 4]],
        fps: &[[u64; 3]],
        orders: &[Vec<usize>],
        detail: bool,
    ) -> Eval {
        let a = self.arch;
        let (sr, sc, t) = roles(self.df);
        let (r, c) = (a.array.rows, a.array.cols);
        let e = self.ext;
        let rf = e[sr].div_ceil(r);
        let cf = e[sc].div_ceil(c);
        let n_t = e[t].div_ceil(tiles[0][t]);
        let ovh = match self.df {
            Dataflow::Os => r + c - 2,
            Dataflow::Ws | Dataflow::Is => 2 * r + c - 2,
        };
        let g = e[crate::problem::G];
        let compute = (g * rf * cf * (e[t] + n_t * ovh)).saturating_sub(1).max(1);
        // Array-side words of the innermost level per operand: (reads, writes).
        let mut l0 = [(0f64, 0f64); 3];
        for (x, acc) in l0.iter_mut().enumerate() {
            let u = USES[x];
            let words = if u[sr] && u[sc] {
                (e[sr] * e[sc] * n_t) as f64
            } else if u[sr] {
                (e[sr] * e[t] * cf) as f64
            } else {
                (e[sc] * e[t] * rf) as f64
            } * g as f64;
            let visits_of_output = if u[sr] && u[sc] { n_t } else { rf } as f64;
            *acc = if x == 2 {
                (words * (visits_of_output - 1.0) / visits_of_output, words)
            } else {
                (words, 0.0)
            };
        }
        let cores = a.cores as f64;
        let nlev = a.memory.len();
        let costs = &self.costs;
        let mut level_pj = vec![0f64; nlev];
        let mut busy = vec![0f64; nlev];
        for (&(rd, wr), bytes) in l0.iter().zip(self.pb.elem_bytes) {
            level_pj[0] +=
                (rd * costs[0].read_pj_per_byte + wr * costs[0].write_pj_per_byte) * bytes * cores;
            busy[0] += (rd + wr) * bytes;
        }
        let mut traffic = vec![0u64; nlev - 1];
        let mut noc_pj = 0.0;
        let mut prologue = 0.0;
        let mut levels = Vec::with_capacity(nlev - 1);
        for l in 0..nlev - 1 {
            let fp = fps[l];
            // Loops above level l, outermost first: outer levels' loops, then this one's.
            let mut loops: Vec<(usize, u64)> = Vec::new();
            for k in (l..nlev - 1).rev() {
                let outer = if k + 1 < nlev - 1 { tiles[k + 1] } else { e };
                for &gg in &orders[k] {
                    loops.push((gg, outer[gg].div_ceil(tiles[k][gg])));
                }
            }
            let mut moved = 0f64;
            for (x, &fpx) in fp.iter().enumerate() {
                let m = refetch(x, &loops) as f64;
                let per_core = fpx as f64 * m;
                // Shared levels above fetch an operand the cores all use only once.
                let fetchers = if a.memory[l + 1].scope != Scope::Core && self.copies(l + 1, x) == 1
                {
                    1.0
                } else {
                    cores
                };
                let inner_copies = if a.memory[l].scope == Scope::Core {
                    cores
                } else {
                    fetchers
                };
                let bytes = self.pb.elem_bytes[x];
                let (up, down) = if x == 2 {
                    let total = (self.out_total as f64).min(per_core);
                    (per_core, per_core - total)
                } else {
                    (0.0, per_core)
                };
                // `down` bytes: read above, written below; `up`: the reverse.
                let src = (down * fetchers).max(0.0) * bytes;
                let dst = (down * inner_copies).max(0.0) * bytes;
                let up_b = up * inner_copies * bytes;
                level_pj[l + 1] +=
                    src * costs[l + 1].read_pj_per_byte + up_b * costs[l + 1].write_pj_per_byte;
                level_pj[l] += dst * costs[l].write_pj_per_byte + up_b * costs[l].read_pj_per_byte;
                let crosses_noc =
                    a.memory[l].scope == Scope::Core && a.memory[l + 1].scope == Scope::Chip;
                if crosses_noc {
                    noc_pj += (dst + up_b) * a.noc.energy_pj_per_byte_hop * a.noc.avg_hops;
                }
                moved += src.max(dst) + up_b;
                if l + 2 == nlev {
                    prologue += fpx as f64 * bytes;
                }
            }
            traffic[l] = moved.round() as u64;
            // Bandwidth of the level above, shared by the cores when it is not private.
            let per_instance = if a.memory[l + 1].scope == Scope::Core {
                moved / cores
            } else {
                moved
            };
            busy[l + 1] += per_instance;
            if detail {
                levels.push(LevelMapping {
                    level: a.memory[l].name.clone(),
                    tile: tiles[l],
                    order: orders[l].iter().map(|&g| GROUP_NAMES[g]).collect(),
                    used_bytes: self.held_bytes(l, &fp),
                });
            }
        }
        let mut cycles = compute as f64;
        for (i, b) in busy.iter().enumerate() {
            cycles = cycles.max(b / a.memory[i].bandwidth_bytes_per_cycle);
        }
        cycles += prologue / a.memory[nlev - 1].bandwidth_bytes_per_cycle;
        let cycles = cycles.ceil() as u64;
        let macs = self.pb.macs as f64;
        let mac_pj = macs * self.mac_pj;
        let registers_pj = macs
            * a.array.reg_accesses_per_mac
            * a.array.reg_energy_pj_per_byte
            * self.compute_bytes;
        let leakage_pj = self.leakage_w * cycles as f64 / (a.clock_ghz * 1e9) * 1e12;
        let levels_pj: Vec<(String, f64)> = if detail {
            (0..nlev)
                .map(|i| (a.memory[i].name.clone(), level_pj[i]))
                .collect()
        } else {
            Vec::new()
        };
        let total_pj = mac_pj + registers_pj + level_pj.iter().sum::<f64>() + noc_pj + leakage_pj;
        Eval {
            cycles,
            compute,
            energy: EnergyBreakdown {
                mac_pj,
                registers_pj,
                levels_pj,
                noc_pj,
                leakage_pj,
                total_pj,
            },
            traffic,
            levels,
        }
    }
}

/// Score, evaluation, dataflow and core split of the best mapping so far.
type Best = (
    (f64, f64),
    Dataflow,
    Option<usize>,
    Vec<[u64; 4]>,
    Vec<[u64; 3]>,
    Vec<Vec<usize>>,
);

fn score(obj: Objective, cycles: u64, pj: f64) -> (f64, f64) {
    let c = cycles as f64;
    match obj {
        Objective::Latency => (c, pj),
        Objective::Energy => (pj, c),
        Objective::Edp => (c * pj, c),
    }
}

/// Maps one contraction problem onto `arch`.
pub fn map_problem(
    pb: &Problem,
    arch: &NpuArch,
    dtype: DType,
    obj: Objective,
) -> Result<OpMapping, MapperError> {
    let nlev = arch.memory.len();
    let mut best: Option<Best> = None;
    let mut too_big: Option<MapperError> = None;
    let costs: Vec<_> = (0..nlev).map(|i| arch.level_cost(i)).collect();
    let leakage_w = arch.leakage_w();
    let make_ctx = |df: Dataflow, split: Option<usize>| {
        let mut ext = pb.ext;
        if let Some(s) = split {
            ext[s] = ext[s].div_ceil(arch.cores);
        }
        Ctx {
            arch,
            pb,
            df,
            split,
            ext,
            mac_pj: arch.mac_pj(dtype),
            compute_bytes: dtype.bits() as f64 / 8.0,
            costs: costs.clone(),
            leakage_w,
            out_total: pb.footprint(2, &ext),
        }
    };
    let splits: Vec<Option<usize>> = if arch.cores > 1 {
        (0..4)
            .filter(|&g| g != W && pb.ext[g] > 1)
            .map(Some)
            .collect()
    } else {
        vec![None]
    };
    let splits = if splits.is_empty() {
        vec![None]
    } else {
        splits
    };
    for &df in &arch.array.dataflows {
        for &split in &splits {
            let ctx = make_ctx(df, split);
            let ext = ctx.ext;
            let (sr, sc, t) = roles(df);
            let units = {
                let mut u = [1u64; 4];
                u[sr] = arch.array.rows.min(ext[sr]);
                u[sc] = arch.array.cols.min(ext[sc]);
                u
            };
            // Level by level, innermost first; each level's tile is a multiple of the one below.
            let mut inner = units;
            inner[t] = 1;
            inner[crate::problem::G] = 1;
            let mut tiles: Vec<[u64; 4]> = Vec::with_capacity(nlev - 1);
            let mut ok = true;
            for l in 0..nlev - 1 {
                let cap = arch.memory[l].capacity_bytes;
                let need = ctx.held_bytes(l, &ctx.footprints(&inner));
                if need > cap {
                    too_big = Some(MapperError::TileDoesNotFit {
                        op: pb.op.clone(),
                        level: arch.memory[l].name.clone(),
                        capacity_bytes: cap,
                        need_bytes: need,
                    });
                    ok = false;
                    break;
                }
                tiles.push(inner);
            }
            if !ok {
                continue;
            }
            // Search the innermost tile (spatial pairs x largest temporal x orders); outer
            // on-chip levels take the largest multiple that fits, grown in the same way.
            let fits = |l: usize, tile: &[u64; 4]| {
                ctx.held_bytes(l, &ctx.footprints(tile)) <= arch.memory[l].capacity_bytes
            };
            let grow = |l: usize, base: [u64; 4], lo: &[u64; 4]| -> [u64; 4] {
                // Largest temporal, then G, extents on top of `base` that fit at level l.
                let mut tile = base;
                for gdim in [t, crate::problem::G] {
                    // Candidates ascend from `lo` and footprints grow with the tile, so
                    // "fits" is monotone: binary search for the last fitting one.
                    let cands = candidates(ext[gdim], lo[gdim].max(1));
                    let n_fit = cands.partition_point(|&v| {
                        let mut tt = tile;
                        tt[gdim] = v;
                        fits(l, &tt)
                    });
                    tile[gdim] = match n_fit {
                        0 => tile[gdim].max(lo[gdim]),
                        k => cands[k - 1],
                    };
                }
                tile
            };
            for &a_sr in &candidates(ext[sr], units[sr]) {
                for &a_sc in &candidates(ext[sc], units[sc]) {
                    let mut base = tiles[0];
                    base[sr] = a_sr;
                    base[sc] = a_sc;
                    base[t] = 1;
                    if !fits(0, &base) {
                        continue;
                    }
                    let mut ts = vec![grow(0, base, &tiles[0])];
                    for l in 1..nlev - 1 {
                        let lo = ts[l - 1];
                        let mut b2 = lo;
                        for gdim in [sr, sc] {
                            // Outer levels: whole spatial extent when it fits.
                            let mut tt = b2;
                            tt[gdim] = ext[gdim];
                            if fits(l, &tt) {
                                b2 = tt;
                            }
                        }
                        ts.push(grow(l, b2, &lo));
                    }
                    // Orders per level: search the innermost boundary's order; outer levels
                    // use their own best order given it (evaluated jointly when few).
                    let counts0: [u64; 4] = {
                        let outer = if nlev > 2 { ts[1] } else { ext };
                        [0, 1, 2, 3].map(|g| outer[g].div_ceil(ts[0][g]))
                    };
                    let o0 = orders(&counts0);
                    let outer_orders: Vec<Vec<Vec<usize>>> = (1..nlev - 1)
                        .map(|l| {
                            let outer = if l + 1 < nlev - 1 { ts[l + 1] } else { ext };
                            orders(&[0, 1, 2, 3].map(|g| outer[g].div_ceil(ts[l][g])))
                        })
                        .collect();
                    let fps: Vec<[u64; 3]> = ts.iter().map(|t| ctx.footprints(t)).collect();
                    for ord0 in &o0 {
                        let mut ords = vec![ord0.clone()];
                        for oo in &outer_orders {
                            ords.push(oo[0].clone());
                        }
                        // Refine each outer level's order greedily.
                        for (k, oo) in outer_orders.iter().enumerate() {
                            let mut best_o = ords[k + 1].clone();
                            let mut best_s = None;
                            for o in oo {
                                ords[k + 1] = o.clone();
                                let ev = ctx.eval(&ts, &fps, &ords, false);
                                let s = score(obj, ev.cycles, ev.energy.total_pj);
                                if best_s.is_none_or(|b| s < b) {
                                    best_s = Some(s);
                                    best_o = o.clone();
                                }
                            }
                            ords[k + 1] = best_o;
                        }
                        let ev = ctx.eval(&ts, &fps, &ords, false);
                        let s = score(obj, ev.cycles, ev.energy.total_pj);
                        if best.as_ref().is_none_or(|b| s < b.0) {
                            best = Some((s, df, split, ts.clone(), fps.clone(), ords.clone()));
                        }
                    }
                }
            }
        }
    }
    let Some((_, df, split, ts, fps, ords)) = best else {
        return Err(too_big.unwrap_or(MapperError::NoDataflow {
            op: pb.op.clone(),
            arch: arch.name.clone(),
        }));
    };
    let ev = make_ctx(df, split).eval(&ts, &fps, &ords, true);
    let (sr, sc, t) = roles(df);
    let pes = (arch.array.rows * arch.array.cols * arch.cores) as f64;
    Ok(OpMapping {
        op: pb.op.clone(),
        dataflow: df,
        rows: pb.group_dims(sr),
        cols: pb.group_dims(sc),
        time: pb.group_dims(t),
        core_split: split.map_or("-".to_string(), |s| pb.group_dims(s)),
        levels: ev.levels,
        macs: pb.macs,
        repeat: pb.repeat,
        compute_cycles: ev.compute,
        latency_cycles: ev.cycles,
        traffic_bytes: ev.traffic,
        utilization: pb.macs as f64 / (ev.cycles as f64 * pes),
        energy: ev.energy,
    })
}

/// Maps every contraction of `g` layer by layer.
pub fn map_graph(g: &Graph, arch: &NpuArch, obj: Objective) -> Result<GraphMapping, MapperError> {
    let mut ops = Vec::new();
    let mut unmapped = Vec::new();
    for op in &g.ops {
        let pbs = Problem::from_op(op)?;
        if pbs.is_empty() {
            unmapped.push(op.name.clone());
        }
        for pb in &pbs {
            ops.push(map_problem(pb, arch, op.compute_dtype, obj)?);
        }
    }
    let latency_cycles: u64 = ops.iter().map(|m| m.latency_cycles * m.repeat).sum();
    let energy_pj: f64 = ops
        .iter()
        .map(|m| m.energy.total_pj * m.repeat as f64)
        .sum();
    Ok(GraphMapping {
        arch: arch.name.clone(),
        objective: obj,
        ops,
        unmapped,
        latency_cycles,
        latency_s: latency_cycles as f64 / (arch.clock_ghz * 1e9),
        energy_j: energy_pj * 1e-12,
    })
}
