//! Pipeline schedules, simulated: the bubble comes from the schedule, not a formula.
//!
//! Each device runs its list of forward and backward passes (one per model chunk and
//! micro-batch) in the schedule's order; a pass starts when its device is free and its
//! inputs have arrived (the previous virtual stage's forward, plus the activation send; the
//! next virtual stage's backward, plus the gradient send; its own forward). A send either
//! runs beside compute (the device goes on with its next pass) or blocks its device until
//! it is done, as Megatron-LM's synchronous point-to-point calls do (`blocking`); the
//! receiver waits for the data either way. Schedules:
//! - **GPipe** (Huang et al. 2019): all forwards, then all backwards.
//! - **1F1B** (PipeDream-Flush, Narayanan et al. 2021 §2.2.1): `p − d − 1` warm-up forwards
//!   on device `d`, then one forward and one backward alternately, then the remaining
//!   backwards. Same bubble as GPipe, at most `p` micro-batches' activations in flight.
//! - **Interleaved 1F1B** (Narayanan et al. 2021 §2.2.2, Megatron-LM's
//!   `forward_backward_pipelining_with_interleaving`): each device holds `v` model chunks
//!   (virtual stage `c·p + d` is chunk `c` on device `d`); the warm-up is
//!   `(p − d − 1)·2 + (v − 1)·p` forwards and the k-th forward runs chunk `(k / p) mod v`
//!   of micro-batch `(k / (p·v))·p + k mod p`, backwards mirror it. The bubble shrinks by
//!   `v` at the cost of `v×` more sends.
//! - **DualPipe** (DeepSeek-AI 2024, DeepSeek-V3 report §3.2.1; `deepseek-ai/DualPipe`
//!   `DualPipe.step`, whose eight phases `dualpipe_program` follows): half the
//!   micro-batches enter at device 0 and half at device `p − 1`; device `d` holds stage `d`
//!   of the first direction and stage `p − 1 − d` of the second (two copies of the
//!   parameters). In its steady state a device runs one direction's forward together with
//!   the other's backward, each hiding the other's communication (an overlapped pair takes
//!   the longer of their compute and their communication), and the warm-up and drain defer
//!   weight gradients (zero bubble, Qi et al. 2024) to fill the bubble.

use serde::Serialize;

/// Which pipeline schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    Gpipe,
    OneFOneB,
    /// Interleaved 1F1B with this many model chunks per device.
    Interleaved(u64),
    /// DeepSeek's bidirectional DualPipe: two chunks per device, one per direction.
    #[serde(rename = "dualpipe")]
    DualPipe,
}

impl Schedule {
    /// Model chunks per device.
    pub fn chunks(self) -> u64 {
        match self {
            Schedule::Interleaved(v) => v.max(1),
            Schedule::DualPipe => 2,
            _ => 1,
        }
    }

    /// Distinct model stages the layers are cut into on `p` devices: one per chunk, except
    /// under DualPipe, whose two directions run the same `p` stages.
    pub fn stages(self, p: u64) -> u64 {
        match self {
            Schedule::DualPipe => p,
            _ => p * self.chunks(),
        }
    }

    /// The model stage chunk `c` of device `d` (of `p`) runs.
    pub fn stage_of(self, p: u64, d: u64, c: u64) -> u64 {
        match self {
            Schedule::DualPipe if c == 1 => p - 1 - d,
            Schedule::DualPipe => d,
            _ => c * p + d,
        }
    }

    /// `1f1b`, `gpipe`, `interleaved` (2 chunks), `interleaved:V` or `dualpipe`.
    pub fn parse(s: &str) -> Result<Schedule, String> {
        let l = s.trim().to_ascii_lowercase();
        Ok(match l.as_str() {
            "1f1b" => Schedule::OneFOneB,
            "gpipe" => Schedule::Gpipe,
            "dualpipe" => Schedule::DualPipe,
            _ => match l.strip_prefix("interleaved") {
                Some("") => Schedule::Interleaved(2),
                Some(v) => Schedule::Interleaved(
                    v.trim_start_matches([':', '='])
                        .parse::<u64>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| {
                            format!("schedule `{s}`: expected interleaved:V with V ≥ 1 chunks")
                        })?,
                ),
                None => {
                    return Err(format!(
                        "pipeline schedule `{s}` is not modelled (expected 1f1b, gpipe, \
                         interleaved:V or dualpipe)"
                    ))
                }
            },
        })
    }

    /// The schedule's name as [`Schedule::parse`] reads it.
    pub fn label(self) -> String {
        match self {
            Schedule::Gpipe => "gpipe".into(),
            Schedule::OneFOneB => "1f1b".into(),
            Schedule::Interleaved(v) => format!("interleaved:{v}"),
            Schedule::DualPipe => "dualpipe".into(),
        }
    }
}

/// Times of one micro-batch through one model chunk on one device, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct ChunkTimes {
    pub forward_s: f64,
    /// The whole backward: input and weight gradients.
    pub backward_s: f64,
    /// Of `backward_s`, the weight gradients: what a zero-bubble schedule runs later.
    pub weight_s: f64,
    /// Of `forward_s` and `backward_s`, the communication inside the pass (expert
    /// all-to-alls, tensor-parallel collectives): what a schedule that overlaps two passes
    /// hides behind the other's compute.
    pub forward_comm_s: f64,
    pub backward_comm_s: f64,
}

/// What a simulated schedule took.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    /// From the first forward's start to the last backward's end.
    pub makespan_s: f64,
    /// Time each device spent in forward and backward passes.
    pub busy_s: Vec<f64>,
    /// Share of the devices' time idle in the pipeline, neither in a pass nor blocked in a
    /// send: `1 − Σ (busy + sending) / (p · makespan)`.
    pub bubble_fraction: f64,
    /// Most micro-batches whose activations one device holds at once (forwards done,
    /// backwards not yet): what sizes the activation memory.
    pub max_in_flight: u64,
    /// When each device finished its last pass.
    pub end_s: Vec<f64>,
    /// Most chunk passes (one micro-batch through one of its model chunks) each device
    /// held activations for at once.
    pub in_flight_passes: Vec<u64>,
    /// Time each device stood blocked in its own sends (0 where sends run beside compute).
    pub sending_s: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Fwd,
    Bwd,
}

/// The order in which device `d` of `p` runs its passes: (direction, chunk, micro-batch).
fn program(s: Schedule, p: u64, d: u64, m: u64) -> Vec<(Dir, u64, u64)> {
    let v = s.chunks();
    let total = m * v;
    // The k-th forward / backward of the device, as (chunk, micro-batch).
    let fwd = |k: u64| -> (u64, u64) {
        match s {
            Schedule::Interleaved(_) => ((k / p) % v, (k / (p * v)) * p + k % p),
            _ => (0, k),
        }
    };
    let bwd = |k: u64| -> (u64, u64) {
        match s {
            Schedule::Interleaved(_) => (v - 1 - (k / p) % v, (k / (p * v)) * p + k % p),
            _ => (0, k),
        }
    };
    let warmup = match s {
        Schedule::Gpipe => total,
        Schedule::OneFOneB => (p - d - 1).min(total),
        Schedule::Interleaved(_) => ((p - d - 1) * 2 + (v - 1) * p).min(total),
        // Its own programs: `dualpipe_program`.
        Schedule::DualPipe => 0,
    };
    let mut out = Vec::with_capacity(2 * total as usize);
    for k in 0..warmup {
        let (c, j) = fwd(k);
        out.push((Dir::Fwd, c, j));
    }
    for i in 0..total - warmup {
        let (c, j) = fwd(warmup + i);
        out.push((Dir::Fwd, c, j));
        let (c, j) = bwd(i);
        out.push((Dir::Bwd, c, j));
    }
    for k in total - warmup..total {
        let (c, j) = bwd(k);
        out.push((Dir::Bwd, c, j));
    }
    out
}

/// Simulates `m` micro-batches through `p` devices of `times[d][c]` (device, chunk) under
/// schedule `s`. `send_s[d]` is the time to send a micro-batch's activations from device
/// `d` to device `(d + 1) mod p` (the next virtual stage), or its gradients back; one value
/// for all links, or one per device. Interleaving needs `m` to be a multiple of `p` (as
/// Megatron-LM). With `blocking`, a device that sends its pass's output (activations
/// forward, gradients back) stands idle for the send's time before its next pass.
pub fn simulate(
    s: Schedule,
    times: &[Vec<ChunkTimes>],
    m: u64,
    send_s: &[f64],
    blocking: bool,
) -> Result<Timeline, String> {
    let p = times.len() as u64;
    let v = s.chunks();
    let link = |from: u64| -> f64 {
        match send_s.len() {
            0 => 0.0,
            1 => send_s[0],
            n => send_s[(from % p) as usize % n],
        }
    };
    if p == 0 || m == 0 {
        return Err("a pipeline needs at least one stage and one micro-batch".into());
    }
    if times.iter().any(|t| t.len() as u64 != v) {
        return Err(format!(
            "every device needs times for its {v} model chunk(s)"
        ));
    }
    if s == Schedule::DualPipe {
        return dualpipe(times, m, link);
    }
    if matches!(s, Schedule::Interleaved(_)) && !m.is_multiple_of(p) {
        return Err(format!(
            "the interleaved schedule needs the micro-batches ({m}) to be a multiple of the \
             pipeline stages ({p})"
        ));
    }
    let stages = p * v;
    let idx = |vs: u64, j: u64| (vs * m + j) as usize;
    let mut fwd_done = vec![f64::NAN; (stages * m) as usize];
    let mut bwd_done = vec![f64::NAN; (stages * m) as usize];
    let programs: Vec<Vec<(Dir, u64, u64)>> = (0..p).map(|d| program(s, p, d, m)).collect();
    let mut next = vec![0usize; p as usize];
    let mut free = vec![0.0f64; p as usize];
    let mut busy = vec![0.0f64; p as usize];
    let (mut in_flight, mut max_in_flight) = (vec![0u64; p as usize], 0u64);
    let mut peak = vec![0u64; p as usize];
    let mut sending = vec![0.0f64; p as usize];
    let mut remaining: usize = programs.iter().map(Vec::len).sum();
    while remaining > 0 {
        let mut progressed = false;
        for d in 0..p as usize {
            let Some(&(dir, c, j)) = programs[d].get(next[d]) else {
                continue;
            };
            let vs = c * p + d as u64;
            let t = times[d][c as usize];
            let ready = match dir {
                Dir::Fwd if vs == 0 => Some(0.0),
                Dir::Fwd => {
                    let r = fwd_done[idx(vs - 1, j)];
                    (!r.is_nan()).then_some(r + link(vs - 1))
                }
                Dir::Bwd => {
                    let own = fwd_done[idx(vs, j)];
                    let up = if vs + 1 == stages {
                        Some(own)
                    } else {
                        let r = bwd_done[idx(vs + 1, j)];
                        (!r.is_nan()).then_some(r + link(vs))
                    };
                    up.filter(|_| !own.is_nan()).map(|u| u.max(own))
                }
            };
            let Some(ready) = ready else { continue };
            let start = ready.max(free[d]);
            let dur = if dir == Dir::Fwd {
                t.forward_s
            } else {
                t.backward_s
            };
            let end = start + dur;
            let sent = match dir {
                Dir::Fwd if vs + 1 < stages => link(vs),
                Dir::Bwd if vs > 0 => link(vs - 1),
                _ => 0.0,
            };
            let held = if blocking { sent } else { 0.0 };
            match dir {
                Dir::Fwd => {
                    fwd_done[idx(vs, j)] = end;
                    in_flight[d] += 1;
                    max_in_flight = max_in_flight.max(in_flight[d]);
                    peak[d] = peak[d].max(in_flight[d]);
                }
                Dir::Bwd => {
                    bwd_done[idx(vs, j)] = end;
                    in_flight[d] -= 1;
                }
            }
            free[d] = end + held;
            busy[d] += dur;
            sending[d] += held;
            next[d] += 1;
            remaining -= 1;
            progressed = true;
        }
        if !progressed {
            return Err("the schedule deadlocked (a pass waits on one never run)".into());
        }
    }
    Ok(timeline(
        free,
        busy,
        peak,
        max_in_flight.div_ceil(v),
        sending,
    ))
}

/// The timeline of devices that ended at `free`, busy for `busy`, holding at most `peak`
/// passes' activations each, blocked in sends for `sending`.
fn timeline(
    free: Vec<f64>,
    busy: Vec<f64>,
    peak: Vec<u64>,
    max_in_flight: u64,
    sending: Vec<f64>,
) -> Timeline {
    let makespan = free.iter().fold(0.0f64, |a, &b| a.max(b));
    let bubble = if makespan > 0.0 {
        let worked = busy.iter().sum::<f64>() + sending.iter().sum::<f64>();
        1.0 - worked / (free.len() as f64 * makespan)
    } else {
        0.0
    };
    Timeline {
        makespan_s: makespan,
        busy_s: busy,
        bubble_fraction: bubble,
        max_in_flight,
        end_s: free,
        in_flight_passes: peak,
        sending_s: sending,
    }
}

/// One pass of a DualPipe device program, by direction (0: entered at device 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    F(usize),
    /// A backward; `true` runs the input gradients only and queues the weight gradients.
    B(usize, bool),
    /// The oldest queued weight gradients.
    W,
    /// One direction's forward overlapped with the other's backward.
    Fb(usize, usize),
}

/// Device `r`'s program under DualPipe with `p` devices and `m` micro-batches, transcribed
/// from `deepseek-ai/DualPipe` (`dualpipe.py`, `DualPipe.step`, steps 1–8). Its phases are
/// local — phase 0 is the first direction on the first half of the devices and the second
/// on the second half — and are turned into directions here.
fn dualpipe_program(p: u64, r: u64, m: u64) -> Vec<Pass> {
    let nh = p / 2;
    let hr = r.min(p - 1 - r);
    let half = m / 2;
    let middle = r + 1 == nh || r == nh;
    let flip = usize::from(r >= nh);
    let d = |phase: usize| phase ^ flip;
    let mut out = Vec::with_capacity(4 * m as usize);
    // 1: nF0.
    for _ in 0..(nh - hr - 1) * 2 {
        out.push(Pass::F(d(0)));
    }
    // 2: nF0F1.
    for _ in 0..hr + 1 {
        out.push(Pass::F(d(0)));
        out.push(Pass::F(d(1)));
    }
    // 3: nB1W1F1, weight gradients deferred.
    for _ in 0..nh - hr - 1 {
        out.push(Pass::B(d(1), true));
        out.push(Pass::W);
        out.push(Pass::F(d(1)));
    }
    // 4, the main step: nF0B1F1B0 (the middle devices do not overlap their first pair).
    for i in 0..half + hr + 1 - p {
        if i == 0 && middle {
            out.push(Pass::F(d(0)));
            out.push(Pass::B(d(1), false));
        } else {
            out.push(Pass::Fb(d(0), d(1)));
        }
        out.push(Pass::Fb(d(1), d(0)));
    }
    // 5: nB1F1B0.
    for _ in 0..nh - hr - 1 {
        out.push(Pass::B(d(1), false));
        out.push(Pass::Fb(d(1), d(0)));
    }
    // 6: nB1B0, the second half with weight gradients deferred.
    let step6 = hr + 1;
    let mut zb = false;
    for i in 0..step6 {
        if i == step6 / 2 && hr % 2 == 1 {
            zb = true;
        }
        out.push(Pass::B(d(1), zb));
        if i == step6 / 2 && hr.is_multiple_of(2) {
            zb = true;
        }
        out.push(Pass::B(d(0), zb));
    }
    // 7: nWB0.
    for _ in 0..nh - hr - 1 {
        out.push(Pass::W);
        out.push(Pass::B(d(0), true));
    }
    // 8: nW.
    for _ in 0..hr + 1 {
        out.push(Pass::W);
    }
    out
}

/// Simulates DualPipe: `times[d]` holds device `d`'s chunk for the first direction (stage
/// `d`) and for the second (stage `p − 1 − d`); `link(d)` is the send between devices `d` and
/// `d + 1`, either way.
fn dualpipe(
    times: &[Vec<ChunkTimes>],
    m: u64,
    link: impl Fn(u64) -> f64,
) -> Result<Timeline, String> {
    let p = times.len() as u64;
    if !p.is_multiple_of(2) || p < 2 {
        return Err(format!(
            "DualPipe needs an even number of pipeline stages, at least 2 (pp = {p})"
        ));
    }
    if !m.is_multiple_of(2) || m < 2 * p {
        return Err(format!(
            "DualPipe needs an even number of micro-batches, at least twice the pipeline \
             stages ({m} for pp = {p}; DualPipe.step asserts num_chunks >= 2 * num_ranks)"
        ));
    }
    let half = (m / 2) as usize;
    let pu = p as usize;
    // The device running stage `s` of direction `dir`; the map is its own inverse, so it
    // also gives the stage device `r` runs in that direction.
    let device = |dir: usize, s: usize| if dir == 0 { s } else { pu - 1 - s };
    let stage = device;
    let idx = |dir: usize, s: usize, j: usize| (dir * pu + s) * half + j;
    let mut fwd_done = vec![f64::NAN; 2 * pu * half];
    let mut bwd_done = vec![f64::NAN; 2 * pu * half];
    let programs: Vec<Vec<Pass>> = (0..p).map(|r| dualpipe_program(p, r, m)).collect();
    let mut next = vec![0usize; pu];
    let mut next_f = vec![[0usize; 2]; pu];
    let mut next_b = vec![[0usize; 2]; pu];
    let mut deferred: Vec<std::collections::VecDeque<f64>> = vec![Default::default(); pu];
    let mut free = vec![0.0f64; pu];
    let mut busy = vec![0.0f64; pu];
    let mut in_flight = vec![0u64; pu];
    let mut peak = vec![0u64; pu];
    let hop = |a: usize, b: usize| link(a.min(b) as u64);
    let mut remaining: usize = programs.iter().map(Vec::len).sum();
    while remaining > 0 {
        let mut progressed = false;
        for r in 0..pu {
            let Some(&pass) = programs[r].get(next[r]) else {
                continue;
            };
            // When a direction's next forward / backward on `r` can start, if it can.
            let f_ready = |dir: usize| -> Option<f64> {
                let (s, j) = (stage(dir, r), next_f[r][dir]);
                if j >= half {
                    return None;
                }
                if s == 0 {
                    return Some(0.0);
                }
                let t = fwd_done[idx(dir, s - 1, j)];
                (!t.is_nan()).then(|| t + hop(r, device(dir, s - 1)))
            };
            let b_ready = |dir: usize| -> Option<f64> {
                let (s, j) = (stage(dir, r), next_b[r][dir]);
                if j >= half {
                    return None;
                }
                let own = fwd_done[idx(dir, s, j)];
                if own.is_nan() {
                    return None;
                }
                if s + 1 == pu {
                    return Some(own);
                }
                let t = bwd_done[idx(dir, s + 1, j)];
                (!t.is_nan()).then(|| own.max(t + hop(r, device(dir, s + 1))))
            };
            let chunk = |dir: usize| times[r][dir];
            let (ready, dur) = match pass {
                Pass::F(dir) => match f_ready(dir) {
                    Some(t) => (t, chunk(dir).forward_s),
                    None => continue,
                },
                Pass::B(dir, defer) => match b_ready(dir) {
                    Some(t) => {
                        let c = chunk(dir);
                        (
                            t,
                            if defer {
                                c.backward_s - c.weight_s
                            } else {
                                c.backward_s
                            },
                        )
                    }
                    None => continue,
                },
                Pass::W => match deferred[r].front() {
                    Some(&w) => (0.0, w),
                    None => return Err("DualPipe ran a weight pass with none queued".into()),
                },
                Pass::Fb(df, db) => match (f_ready(df), b_ready(db)) {
                    (Some(a), Some(b)) => {
                        let (f, bk) = (chunk(df), chunk(db));
                        let compute =
                            (f.forward_s - f.forward_comm_s) + (bk.backward_s - bk.backward_comm_s);
                        let comm = f.forward_comm_s + bk.backward_comm_s;
                        (a.max(b), compute.max(comm))
                    }
                    _ => continue,
                },
            };
            let end = ready.max(free[r]) + dur;
            let mut forward = |dir: usize, in_flight: &mut u64| {
                let j = next_f[r][dir];
                fwd_done[idx(dir, stage(dir, r), j)] = end;
                next_f[r][dir] += 1;
                *in_flight += 1;
            };
            match pass {
                Pass::F(dir) => forward(dir, &mut in_flight[r]),
                Pass::Fb(df, _) => forward(df, &mut in_flight[r]),
                _ => {}
            }
            let mut backward = |dir: usize, defer: bool| {
                let j = next_b[r][dir];
                bwd_done[idx(dir, stage(dir, r), j)] = end;
                next_b[r][dir] += 1;
                in_flight[r] -= 1;
                if defer {
                    deferred[r].push_back(chunk(dir).weight_s);
                }
            };
            match pass {
                Pass::B(dir, defer) => backward(dir, defer),
                Pass::Fb(_, db) => backward(db, false),
                Pass::W => {
                    deferred[r].pop_front();
                }
                Pass::F(_) => {}
            }
            peak[r] = peak[r].max(in_flight[r]);
            free[r] = end;
            busy[r] += dur;
            next[r] += 1;
            remaining -= 1;
            progressed = true;
        }
        if !progressed {
            return Err("the DualPipe schedule deadlocked (a pass waits on one never run)".into());
        }
    }
    let most = peak.iter().copied().max().unwrap_or(0);
    let sending = vec![0.0; free.len()];
    Ok(timeline(free, busy, peak, most, sending))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulation whose sends run beside compute.
    fn beside(s: Schedule, times: &[Vec<ChunkTimes>], m: u64, send_s: &[f64]) -> Timeline {
        simulate(s, times, m, send_s, false).unwrap()
    }

    fn uniform(p: u64, v: u64, f: f64, b: f64) -> Vec<Vec<ChunkTimes>> {
        vec![
            vec![
                ChunkTimes {
                    forward_s: f,
                    backward_s: b,
                    ..Default::default()
                };
                v as usize
            ];
            p as usize
        ]
    }

    #[test]
    fn one_f_one_b_bubble_is_p_minus_one_over_m_plus_p_minus_one() {
        // Narayanan et al. 2021 §2.2.1: bubble time (p − 1)·(f + b), total (m + p − 1)(f + b).
        for (p, m) in [(4, 8), (8, 32), (2, 1), (16, 64)] {
            let t = beside(Schedule::OneFOneB, &uniform(p, 1, 1.0, 2.0), m, &[0.0]);
            let expect = (m + p - 1) as f64 * 3.0;
            assert!(
                (t.makespan_s - expect).abs() < 1e-9,
                "p {p} m {m}: {}",
                t.makespan_s
            );
            let bubble = (p - 1) as f64 / (m + p - 1) as f64;
            assert!((t.bubble_fraction - bubble).abs() < 1e-9);
            assert_eq!(t.max_in_flight, p.min(m));
        }
        let g = beside(Schedule::Gpipe, &uniform(4, 1, 1.0, 2.0), 8, &[0.0]);
        assert!((g.makespan_s - 11.0 * 3.0).abs() < 1e-9);
        assert_eq!(g.max_in_flight, 8);
    }

    #[test]
    fn interleaving_divides_the_bubble_by_the_chunks() {
        // §2.2.2: with v chunks (each 1/v of the stage's work) the bubble is (p − 1)/v of
        // the per-micro-batch time.
        let (p, m, v) = (4, 16, 2);
        let one = beside(Schedule::OneFOneB, &uniform(p, 1, 1.0, 2.0), m, &[0.0]);
        let il = beside(
            Schedule::Interleaved(v),
            &uniform(p, v, 0.5, 1.0),
            m,
            &[0.0],
        );
        let ideal = m as f64 * 3.0;
        assert!((one.makespan_s - ideal - 3.0 * 3.0).abs() < 1e-9);
        assert!(
            (il.makespan_s - ideal - 3.0 * 3.0 / v as f64).abs() < 1e-9,
            "{}",
            il.makespan_s
        );
        assert!(simulate(
            Schedule::Interleaved(2),
            &uniform(4, 2, 0.5, 1.0),
            6,
            &[0.0],
            false
        )
        .is_err());
    }

    #[test]
    fn sends_and_one_stage() {
        let one = beside(Schedule::OneFOneB, &uniform(1, 1, 1.0, 2.0), 5, &[9.0]);
        assert!((one.makespan_s - 15.0).abs() < 1e-9);
        assert_eq!(one.bubble_fraction, 0.0);
        // A send adds to the critical path: 2 stages, 1 micro-batch: f, send, f, b, send, b.
        let two = beside(Schedule::OneFOneB, &uniform(2, 1, 1.0, 2.0), 1, &[0.5]);
        assert!((two.makespan_s - (1.0 + 0.5 + 1.0 + 2.0 + 0.5 + 2.0)).abs() < 1e-9);
        // One slow link (device 1 → 2 crosses nodes) slows only the passes that use it.
        let fast = beside(Schedule::OneFOneB, &uniform(4, 1, 1.0, 2.0), 1, &[0.1]);
        let mixed = beside(
            Schedule::OneFOneB,
            &uniform(4, 1, 1.0, 2.0),
            1,
            &[0.1, 1.0, 0.1, 0.1],
        );
        assert!((mixed.makespan_s - fast.makespan_s - 2.0 * 0.9).abs() < 1e-9);
    }

    #[test]
    fn blocking_sends_hold_their_device() {
        // Steady-state 1F1B: each micro-batch's forward and backward send once each from a
        // middle stage. Beside compute, the sends only delay the passes that wait on them;
        // blocking, every send also holds its sender: a middle device is held for 2·m
        // sends, and that time is not bubble.
        let (p, m, link) = (4, 32, 0.25);
        let stages = uniform(p, 1, 1.0, 2.0);
        let free = beside(Schedule::OneFOneB, &stages, m, &[link]);
        let block = simulate(Schedule::OneFOneB, &stages, m, &[link], true).unwrap();
        assert!(free.sending_s.iter().all(|&x| x == 0.0));
        assert!((block.sending_s[1] - 2.0 * m as f64 * link).abs() < 1e-9);
        // The first stage sends only forward, the last only backward.
        assert!((block.sending_s[0] - m as f64 * link).abs() < 1e-9);
        assert!((block.sending_s[3] - m as f64 * link).abs() < 1e-9);
        // The receive in the same call overlaps the send (Megatron batches them), so the
        // step grows by less than the sends: 1F1B already waits on each arrival.
        assert!(block.makespan_s > free.makespan_s);
        assert!(block.makespan_s < free.makespan_s + 2.0 * m as f64 * link);
        let worked: f64 = block.busy_s.iter().sum::<f64>() + block.sending_s.iter().sum::<f64>();
        let bubble = 1.0 - worked / (p as f64 * block.makespan_s);
        assert!((block.bubble_fraction - bubble).abs() < 1e-12);
        // Without sends the two agree exactly.
        let a = simulate(Schedule::OneFOneB, &stages, m, &[0.0], true).unwrap();
        let b = beside(Schedule::OneFOneB, &stages, m, &[0.0]);
        assert_eq!(a, b);
    }

    fn dual(p: u64, f: f64, b: f64, w: f64) -> Vec<Vec<ChunkTimes>> {
        let c = ChunkTimes {
            forward_s: f,
            backward_s: b,
            weight_s: w,
            ..Default::default()
        };
        vec![vec![c; 2]; p as usize]
    }

    #[test]
    fn dualpipe_reproduces_its_reference_schedule() {
        // deepseek-ai/DualPipe README, images/dualpipe.png: 8 ranks, 20 micro-batches, a
        // forward one cell, a backward two (input and weight gradients one each), an
        // overlapped pair three. The figure spans 66 cells (pixel columns 174 to 3525 at
        // 50.8 per cell), and the middle ranks hold PP + 1 micro-batches (README table).
        let t = beside(Schedule::DualPipe, &dual(8, 1.0, 2.0, 1.0), 20, &[0.0]);
        assert!((t.makespan_s - 66.0).abs() < 1e-9, "{}", t.makespan_s);
        assert_eq!(t.in_flight_passes, vec![8, 8, 8, 9, 9, 8, 8, 8]);
        // README: bubble (PP/2 − 1)(F&B + B − 3W) over the 1F1B-free ideal of m (F + B),
        // F&B = F + B when nothing is hidden.
        for (p, m) in [(4, 8), (8, 64), (16, 120)] {
            let t = beside(Schedule::DualPipe, &dual(p, 1.0, 2.0, 1.0), m, &[0.0]);
            let bubble = (p as f64 / 2.0 - 1.0) * (3.0 + 2.0 - 3.0);
            assert!(
                (t.makespan_s - m as f64 * 3.0 - bubble).abs() < 1e-9,
                "p {p} m {m}"
            );
        }
    }

    #[test]
    fn dualpipe_hides_communication_behind_the_other_pass() {
        // Each pass half compute, half all-to-all: an overlapped pair takes the longer of
        // the two sums, so DualPipe's steady state runs at compute speed, 1F1B's at the sum.
        let c = ChunkTimes {
            forward_s: 2.0,
            backward_s: 4.0,
            weight_s: 1.0,
            forward_comm_s: 1.0,
            backward_comm_s: 2.0,
        };
        let (p, m) = (8, 64);
        let one = beside(Schedule::OneFOneB, &vec![vec![c]; p], m, &[0.0]);
        let dp = beside(Schedule::DualPipe, &vec![vec![c; 2]; p], m, &[0.0]);
        assert!(
            dp.makespan_s < 0.6 * one.makespan_s,
            "{} vs {}",
            dp.makespan_s,
            one.makespan_s
        );
        assert!(dp.makespan_s > m as f64 * 3.0);
        // Odd stages, or fewer than 2·pp micro-batches, are errors naming the constraint.
        assert!(
            simulate(Schedule::DualPipe, &vec![vec![c; 2]; 3], 12, &[0.0], false)
                .unwrap_err()
                .contains("even number of pipeline stages")
        );
        assert!(
            simulate(Schedule::DualPipe, &vec![vec![c; 2]; 8], 14, &[0.0], false)
                .unwrap_err()
                .contains("at least twice")
        );
        assert_eq!(Schedule::parse("DualPipe"), Ok(Schedule::DualPipe));
        assert_eq!(
            Schedule::parse("interleaved:3"),
            Ok(Schedule::Interleaved(3))
        );
        assert!(Schedule::parse("zb-v").is_err());
    }
}
