//! Pipeline schedules, simulated: the bubble comes from the schedule, not a formula.
//!
//! Each device runs its list of forward and backward passes (one per model chunk and
//! micro-batch) in the schedule's order; a pass starts when its device is free and its
//! inputs have arrived (the previous virtual stage's forward, plus the activation send; the
//! next virtual stage's backward, plus the gradient send; its own forward). Schedules:
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

use serde::Serialize;

/// Which pipeline schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    Gpipe,
    OneFOneB,
    /// Interleaved 1F1B with this many model chunks per device.
    Interleaved(u64),
}

impl Schedule {
    /// Model chunks per device.
    pub fn chunks(self) -> u64 {
        match self {
            Schedule::Interleaved(v) => v.max(1),
            _ => 1,
        }
    }
}

/// Times of one micro-batch through one model chunk on one device, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChunkTimes {
    pub forward_s: f64,
    pub backward_s: f64,
}

/// What a simulated schedule took.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    /// From the first forward's start to the last backward's end.
    pub makespan_s: f64,
    /// Time each device spent in forward and backward passes.
    pub busy_s: Vec<f64>,
    /// Share of the devices' time idle in the pipeline: `1 − Σ busy / (p · makespan)`.
    pub bubble_fraction: f64,
    /// Most micro-batches whose activations one device holds at once (forwards done,
    /// backwards not yet): what sizes the activation memory.
    pub max_in_flight: u64,
    /// When each device finished its last pass.
    pub end_s: Vec<f64>,
    /// Most chunk passes (one micro-batch through one of its model chunks) each device
    /// held activations for at once.
    pub in_flight_passes: Vec<u64>,
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
/// Megatron-LM).
pub fn simulate(
    s: Schedule,
    times: &[Vec<ChunkTimes>],
    m: u64,
    send_s: &[f64],
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
            free[d] = end;
            busy[d] += dur;
            next[d] += 1;
            remaining -= 1;
            progressed = true;
        }
        if !progressed {
            return Err("the schedule deadlocked (a pass waits on one never run)".into());
        }
    }
    let makespan = free.iter().fold(0.0f64, |a, &b| a.max(b));
    let bubble = if makespan > 0.0 {
        1.0 - busy.iter().sum::<f64>() / (p as f64 * makespan)
    } else {
        0.0
    };
    Ok(Timeline {
        makespan_s: makespan,
        busy_s: busy,
        bubble_fraction: bubble,
        max_in_flight: max_in_flight.div_ceil(v),
        end_s: free,
        in_flight_passes: peak,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uniform(p: u64, v: u64, f: f64, b: f64) -> Vec<Vec<ChunkTimes>> {
        vec![
            vec![
                ChunkTimes {
                    forward_s: f,
                    backward_s: b
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
            let t = simulate(Schedule::OneFOneB, &uniform(p, 1, 1.0, 2.0), m, &[0.0]).unwrap();
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
        let g = simulate(Schedule::Gpipe, &uniform(4, 1, 1.0, 2.0), 8, &[0.0]).unwrap();
        assert!((g.makespan_s - 11.0 * 3.0).abs() < 1e-9);
        assert_eq!(g.max_in_flight, 8);
    }

    #[test]
    fn interleaving_divides_the_bubble_by_the_chunks() {
        // §2.2.2: with v chunks (each 1/v of the stage's work) the bubble is (p − 1)/v of
        // the per-micro-batch time.
        let (p, m, v) = (4, 16, 2);
        let one = simulate(Schedule::OneFOneB, &uniform(p, 1, 1.0, 2.0), m, &[0.0]).unwrap();
        let il = simulate(
            Schedule::Interleaved(v),
            &uniform(p, v, 0.5, 1.0),
            m,
            &[0.0],
        )
        .unwrap();
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
            &[0.0]
        )
        .is_err());
    }

    #[test]
    fn sends_and_one_stage() {
        let one = simulate(Schedule::OneFOneB, &uniform(1, 1, 1.0, 2.0), 5, &[9.0]).unwrap();
        assert!((one.makespan_s - 15.0).abs() < 1e-9);
        assert_eq!(one.bubble_fraction, 0.0);
        // A send adds to the critical path: 2 stages, 1 micro-batch: f, send, f, b, send, b.
        let two = simulate(Schedule::OneFOneB, &uniform(2, 1, 1.0, 2.0), 1, &[0.5]).unwrap();
        assert!((two.makespan_s - (1.0 + 0.5 + 1.0 + 2.0 + 0.5 + 2.0)).abs() < 1e-9);
        // One slow link (device 1 → 2 crosses nodes) slows only the passes that use it.
        let fast = simulate(Schedule::OneFOneB, &uniform(4, 1, 1.0, 2.0), 1, &[0.1]).unwrap();
        let mixed = simulate(
            Schedule::OneFOneB,
            &uniform(4, 1, 1.0, 2.0),
            1,
            &[0.1, 1.0, 0.1, 0.1],
        )
        .unwrap();
        assert!((mixed.makespan_s - fast.makespan_s - 2.0 * 0.9).abs() < 1e-9);
    }
}
