//! Layouts that fit: the error for one that does not (with the smallest change that fits),
//! and the search for the fastest layout on a number of devices.

use rayon::prelude::*;
use xpusim_target::Target;

use crate::layout::{Recompute, TrainLayout};
use crate::schedule::Schedule;
use crate::step::{step, Build};
use crate::{TrainCost, TrainError};

/// Decimal gigabytes, as every xpusim output gives bytes.
const GB: f64 = 1e9;

/// [`step`], with a layout that does not fit an error naming the fullest device's bytes
/// and the smallest change (or changes, applied in turn) that fits.
pub fn train(
    build: Build,
    seq_len: u64,
    t: &Target,
    layout: &TrainLayout,
) -> Result<TrainCost, TrainError> {
    let c = step(build, seq_len, t, layout)?;
    if c.fits {
        return Ok(c);
    }
    let m = &c.memory;
    let mut msg = format!(
        "{} does not fit on `{}` under {}: stage {} needs {:.1} GB of {:.1} GB per device \
         (weights {:.1}, gradients {:.1}, optimizer {:.1}, activations {:.1}, temporary {:.1} GB)",
        c.model,
        c.hardware,
        c.layout,
        m.stage,
        m.total_bytes as f64 / GB,
        m.capacity_bytes as f64 / GB,
        m.weights_bytes as f64 / GB,
        m.gradients_bytes as f64 / GB,
        m.optimizer_bytes as f64 / GB,
        m.activations_bytes as f64 / GB,
        m.temporary_bytes as f64 / GB,
    );
    // The fewest changes that fit (breadth first, up to MAX_CHANGES), and of those the one
    // that slows the step least.
    let mut frontier: Vec<(Vec<String>, TrainLayout)> = vec![(Vec::new(), *layout)];
    let mut seen: Vec<TrainLayout> = vec![*layout];
    for _ in 0..MAX_CHANGES {
        let mut next: Vec<(Vec<String>, TrainLayout)> = Vec::new();
        for (applied, l) in &frontier {
            for (w, cand) in changes(l, t) {
                if !seen.contains(&cand) {
                    seen.push(cand);
                    let mut a = applied.clone();
                    a.push(w);
                    next.push((a, cand));
                }
            }
        }
        if next.is_empty() {
            break;
        }
        let priced: Vec<(Vec<String>, TrainLayout, TrainCost)> = next
            .into_par_iter()
            .filter_map(|(a, cand)| step(build, seq_len, t, &cand).ok().map(|r| (a, cand, r)))
            .collect();
        if let Some((a, _, r)) = priced
            .iter()
            .filter(|x| x.2.fits)
            .min_by(|a, b| a.2.step_time_s.total_cmp(&b.2.step_time_s))
        {
            msg.push_str(&format!(
                "; smallest change that fits: {} ({:.1} GB, {:.3} s per step)",
                merge_flags(a),
                r.memory.total_bytes as f64 / GB,
                r.step_time_s
            ));
            return Err(TrainError::DoesNotFit(msg));
        }
        frontier = priced.into_iter().map(|(a, l, _)| (a, l)).collect();
    }
    msg.push_str(
        "; no change of ZeRO stage, recomputation, micro-batch, sequence, tensor or pipeline \
         parallelism fits it on these devices: add devices (--nodes)",
    );
    Err(TrainError::DoesNotFit(msg))
}

/// Command-line changes applied in turn as one set of flags: a flag changed twice keeps
/// its last value (`--zero 1`, `--zero 2` → `--zero 2`).
fn merge_flags(changes: &[String]) -> String {
    let mut flags: Vec<(String, Option<String>)> = Vec::new();
    for c in changes {
        let mut words = c.split_whitespace().peekable();
        while let Some(f) = words.next() {
            let value = words.next_if(|w| !w.starts_with("--")).map(str::to_string);
            match flags.iter_mut().find(|(name, _)| name == f) {
                Some(slot) => slot.1 = value,
                None => flags.push((f.to_string(), value)),
            }
        }
    }
    flags
        .into_iter()
        .map(|(f, v)| match v {
            Some(v) => format!("{f} {v}"),
            None => f,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Changes combined, at most, before a layout that does not fit is declared hopeless.
const MAX_CHANGES: usize = 3;

/// One-step changes that save memory, cheapest in speed first.
fn changes(l: &TrainLayout, t: &Target) -> Vec<(String, TrainLayout)> {
    let mut v = Vec::new();
    let dpn = t.system_spec().map_or(1, |s| s.spec.devices_per_node);
    if l.dp * l.cp > 1 && l.zero < 3 {
        v.push((
            format!("--zero {}", l.zero + 1),
            TrainLayout {
                zero: l.zero + 1,
                ..*l
            },
        ));
    }
    if l.tp > 1 && !l.sp {
        v.push(("--sp".into(), TrainLayout { sp: true, ..*l }));
    }
    match l.recompute {
        Recompute::None => v.push((
            "--recompute selective".into(),
            TrainLayout {
                recompute: Recompute::Selective,
                ..*l
            },
        )),
        Recompute::Selective => v.push((
            "--recompute full".into(),
            TrainLayout {
                recompute: Recompute::Full,
                ..*l
            },
        )),
        Recompute::Full => {}
    }
    if l.micro_batch > 1 {
        v.push((
            format!("--micro-batch {}", l.micro_batch / 2),
            TrainLayout {
                micro_batch: l.micro_batch / 2,
                ..*l
            },
        ));
    }
    if l.dp.is_multiple_of(2) && l.tp * 2 <= dpn {
        v.push((
            format!("--tp {} --dp {}", l.tp * 2, l.dp / 2),
            TrainLayout {
                tp: l.tp * 2,
                dp: l.dp / 2,
                global_batch: l.global_batch,
                ..*l
            },
        ));
    }
    if l.dp.is_multiple_of(2) {
        v.push((
            format!("--pp {} --dp {}", l.pp * 2, l.dp / 2),
            TrainLayout {
                pp: l.pp * 2,
                dp: l.dp / 2,
                ..*l
            },
        ));
    }
    // Keep only layouts whose batch still divides.
    v.retain(|(_, c)| c.check().is_ok());
    v
}

/// What a layout search minimises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rank {
    /// Step time (equivalently tokens per second on a fixed number of devices).
    Time,
    /// Dollars per token at this price per device-hour: devices × price × step ÷ tokens —
    /// what decides between using all of a cluster and part of it.
    Cost { usd_per_device_hour: f64 },
}

impl Rank {
    /// The quantity ranked, smaller is better.
    pub fn score(&self, c: &TrainCost) -> f64 {
        match *self {
            Rank::Time => c.step_time_s,
            Rank::Cost {
                usd_per_device_hour,
            } => {
                c.devices as f64 * usd_per_device_hour * c.step_time_s
                    / 3600.0
                    / c.tokens_per_step.max(1) as f64
            }
        }
    }
}

/// Layouts over each device count in `devices` (tensor parallelism by powers of two inside
/// a node, with sequence parallelism; pipeline depth by every divisor, with 1F1B and
/// interleaved schedules; context parallelism 1–4 for sequences of 8k tokens or more;
/// expert parallelism over the data-parallel ranks for MoE models; the rest data parallel
/// with the distributed optimizer or FSDP; micro-batches of 1–8 samples and the base
/// layout's; each
/// recomputation policy), priced in parallel and ranked: those that fit first, by `rank`,
/// then those that do not. `base` gives what is not searched: the global batch, the
/// attention kernels, dropout and overlap. Every layout that ran is returned.
pub fn search(
    build: Build,
    seq_len: u64,
    t: &Target,
    devices: &[u64],
    base: &TrainLayout,
    rank: Rank,
) -> Result<Vec<TrainCost>, TrainError> {
    let global_batch = base.global_batch;
    let dpn = t.system_spec().map_or(1, |s| s.spec.devices_per_node);
    let pow2 = |max: u64| {
        let mut v = vec![1u64];
        while v.last().is_some_and(|x| x * 2 <= max) {
            let n = v.last().copied().unwrap_or(1) * 2;
            v.push(n);
        }
        v
    };
    // Routed experts, from one micro-batch's graph: the degrees expert parallelism may take.
    let probe = build(1, seq_len)?;
    let experts = probe.ops.iter().find_map(|o| match o.kind {
        xpusim_ir::OpKind::Matmul(m) if crate::parts::is_expert(o) => Some(m.batch),
        _ => None,
    });
    // Selective recomputation only differs from none where attention is unfused.
    let unfused = base.unfused_attention || probe.ops.iter().any(crate::parts::attention_core);
    let recomputes: &[Recompute] = if unfused {
        &[Recompute::None, Recompute::Selective, Recompute::Full]
    } else {
        &[Recompute::None, Recompute::Full]
    };
    let cps: &[u64] = if seq_len >= LONG_CONTEXT_TOKENS {
        &[1, 2, 4]
    } else {
        &[1]
    };
    let mut cands = Vec::new();
    for &n in devices {
        for tp in pow2(dpn.min(n)) {
            // Every depth that divides the devices left, not only powers of two: a rack of
            // 72 (or nodes of 16, pods of 3072) leaves factors of 3 and 9 to pipeline
            // depth, so the data-parallel degree can still divide the batch.
            let depths: Vec<u64> = (1..=n / tp)
                .filter(|p| (n / tp).is_multiple_of(*p))
                .collect();
            for pp in depths {
                for &cp in cps {
                    if !n.is_multiple_of(tp * pp * cp) {
                        continue;
                    }
                    let dp = n / (tp * pp * cp);
                    let eps: Vec<u64> = match experts {
                        Some(e) => pow2(dp * cp)
                            .into_iter()
                            .filter(|ep| e.is_multiple_of(*ep))
                            .collect(),
                        None => vec![1],
                    };
                    for ep in eps {
                        let deg = Degrees { tp, pp, dp, cp, ep };
                        push_layouts(&mut cands, deg, base, recomputes);
                    }
                }
            }
        }
    }
    if cands.is_empty() {
        return Err(TrainError::Layout(format!(
            "no layout of {devices:?} devices divides the global batch of {global_batch}"
        )));
    }
    let mut out: Vec<TrainCost> = cands
        .par_iter()
        .filter_map(|l| step(build, seq_len, t, l).ok())
        .collect();
    if out.is_empty() {
        // Every candidate failed: report why the plainest one did.
        return step(build, seq_len, t, &cands[0]).map(|c| vec![c]);
    }
    out.sort_by(|a, b| {
        b.fits
            .cmp(&a.fits)
            .then(rank.score(a).total_cmp(&rank.score(b)))
    });
    Ok(out)
}

/// Model chunks per pipeline stage the search tries for the interleaved schedule.
const INTERLEAVE_CHUNKS: [u64; 3] = [2, 4, 8];

/// Sequences from this length get context parallelism in the search (Llama 3 trains 8k
/// tokens without it and 128k with cp = 16, Dubey et al. 2024 Table 4).
const LONG_CONTEXT_TOKENS: u64 = 8192;

struct Degrees {
    tp: u64,
    pp: u64,
    dp: u64,
    cp: u64,
    ep: u64,
}

fn push_layouts(
    cands: &mut Vec<TrainLayout>,
    d: Degrees,
    base: &TrainLayout,
    recomputes: &[Recompute],
) {
    let Degrees { tp, pp, dp, cp, ep } = d;
    let replicas = dp * cp;
    // Micro-batches of 1–8 samples, and the base layout's own (a CNN trains at 32 or more).
    let mut micros = vec![1, 2, 4, 8];
    if !micros.contains(&base.micro_batch) {
        micros.push(base.micro_batch);
    }
    for micro in micros {
        let mut scheds = vec![Schedule::OneFOneB];
        if pp > 1 {
            // Interleaving shrinks the bubble by the chunks per stage at as many more sends
            // (Narayanan et al. 2021 §2.2.2); stacks run 2 to 12 (MLPerf GPT-3: 12, Llama 3: 8).
            // A depth the layers cannot fill fails its step and drops out.
            scheds.extend(INTERLEAVE_CHUNKS.map(Schedule::Interleaved));
        }
        // DualPipe where its overlap has expert all-to-alls to hide (DeepSeek-V3's use), at
        // twice the parameters' memory.
        if ep > 1 && pp >= 2 && pp.is_multiple_of(2) {
            scheds.push(Schedule::DualPipe);
        }
        // FSDP where there is nothing else to split; the distributed optimizer otherwise.
        let zeros: &[u8] = match (replicas > 1, tp * pp == 1) {
            (false, _) => &[0],
            (true, true) => &[1, 3],
            (true, false) => &[1],
        };
        for &schedule in &scheds {
            for &zero in zeros {
                for &recompute in recomputes {
                    let l = TrainLayout {
                        tp,
                        pp,
                        dp,
                        ep,
                        cp,
                        sp: tp > 1,
                        // The base's overlap where there is a sequence-parallel group.
                        tp_comm_overlap: base.tp_comm_overlap && tp > 1,
                        micro_batch: micro,
                        zero,
                        recompute,
                        schedule,
                        ..*base
                    };
                    let ok = l.check().is_ok()
                        && match schedule {
                            Schedule::Interleaved(_) => {
                                l.microbatches().is_ok_and(|m| m.is_multiple_of(pp))
                            }
                            Schedule::DualPipe => l
                                .microbatches()
                                .is_ok_and(|m| m.is_multiple_of(2) && m >= 2 * pp),
                            _ => true,
                        };
                    if ok {
                        cands.push(l);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merge_flags;

    #[test]
    fn flags_changed_twice_keep_their_last_value() {
        let c = [
            "--zero 1",
            "--tp 2 --dp 4",
            "--zero 2",
            "--sp",
            "--tp 4 --dp 2",
        ]
        .map(String::from);
        assert_eq!(merge_flags(&c), "--zero 2 --tp 4 --dp 2 --sp");
    }
}
