//! What a runtime profile ([`xpusim_hw::RuntimeSpec`]) adds to a pass: the host's kernel
//! issue, overlapped with the device, and the serial host work of the engine step.
//!
//! **Kernel issue.** The host issues kernels in order, one every `c` seconds (its issue
//! time); the device runs them in order, each as soon as it is issued and the one before it
//! has finished. With `h` the time the host has issued the last kernel and `g` the time the
//! device has finished it, kernel (c, d) moves them to `h += c; g = max(g, h) + d` — the
//! queue of asynchronous launches (CUDA streams). The pass ends at the final `g`; what it
//! adds over the device time alone is the host time the device waited for.
//!
//! Identical layers are one op with a `repeat` in the IR, so the queue is advanced a whole
//! block of consecutive ops of one layer group at a time, in closed form: one iteration of a
//! block with device time D, issue time H and C = max_j (Σ_{i≤j} c_i + Σ_{i≥j} d_i) takes the
//! slack s = g − h to max(s + D, C) − H, so after n iterations
//! s_n = max(s_0 + n(D − H), C − H + (n − 1)·max(D − H, 0)) — exact, and tested against
//! the kernel-by-kernel recurrence.
//!
//! **Graphs.** A pass the profile replays from a captured graph is issued in one launch.
//!
//! **Step.** Serving engines do serial host work around each forward pass (scheduling,
//! input preparation, sampling, output processing); `[step]` prices it per pass.

use serde::Serialize;
use xpusim_engine::{ATTENTION_GRAD_KERNELS, RECURRENT_STEP_KERNELS};
use xpusim_hw::RuntimeSpec;
use xpusim_ir::{Op, OpKind, Phase};

/// Kernels the device launches for one instance of `op`: none for an epilogue (it runs in
/// its producer's kernel) or a varlen attention member after its group's first, one launch per dependent step of a recurrence (the engine prices
/// them so too), FlashAttention-2's three backward kernels, one otherwise.
pub fn kernels(op: &Op) -> u64 {
    // A varlen attention member after the first runs in the group's one launch.
    if op.epilogue || op.varlen.is_some_and(|m| m.shares_launch()) {
        return 0;
    }
    match &op.kind {
        // The input projection is one launch; each dependent step is two (its GEMM, then
        // its gates), as the engine prices them.
        OpKind::Recurrent(_) => op
            .contractions()
            .iter()
            .map(|c| match c.sequential_steps {
                0 | 1 => 1,
                steps => steps * RECURRENT_STEP_KERNELS,
            })
            .sum(),
        OpKind::AttentionGrad(_) => ATTENTION_GRAD_KERNELS,
        _ => 1,
    }
}

/// What the runtime added to a pass.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuntimeReport {
    /// The profile's name.
    pub name: String,
    /// Whether the pass was replayed from a captured graph.
    pub graph: bool,
    /// Kernels the host issued (one graph launch when replayed).
    pub kernels: u64,
    /// Host time spent issuing them, s.
    pub issue_s: f64,
    /// Of that, the time the device waited for the host, s (in the latency).
    pub exposed_issue_s: f64,
    /// Serial host work of the engine step, s (in the latency).
    pub step_s: f64,
}

impl RuntimeReport {
    /// What the runtime adds to the device time of the pass.
    pub fn added_s(&self) -> f64 {
        self.exposed_issue_s + self.step_s
    }
}

/// The issue queue of one device: `h` the host's issue clock, `g` the device's finish clock.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IssueQueue {
    pub host_s: f64,
    pub device_s: f64,
}

impl IssueQueue {
    /// One kernel: issued in `c`, run in `d`.
    pub fn push(&mut self, c: f64, d: f64) {
        self.host_s += c;
        self.device_s = self.device_s.max(self.host_s) + d;
    }

    /// `n` iterations of a block of kernel runs `(c, d, count)` — `count` identical kernels
    /// issued in `c` and run in `d` each — in closed form (module doc). Within a run the
    /// maximum defining C is at its first or last kernel (it is linear in the position).
    pub fn push_block(&mut self, block: &[(f64, f64, u64)], n: u64) {
        if n == 0 || block.is_empty() {
            return;
        }
        let d_sum: f64 = block.iter().map(|k| k.1 * k.2 as f64).sum();
        let h_sum: f64 = block.iter().map(|k| k.0 * k.2 as f64).sum();
        let (mut prefix_c, mut suffix_d, mut c_max) = (0.0, d_sum, f64::NEG_INFINITY);
        for &(c, d, count) in block {
            let l = count.max(1) as f64;
            let first = prefix_c + c + suffix_d;
            let last = prefix_c + l * c + (suffix_d - (l - 1.0) * d);
            c_max = c_max.max(first).max(last);
            prefix_c += l * c;
            suffix_d -= l * d;
        }
        let nf = n as f64;
        let s0 = self.device_s - self.host_s;
        let s_n = f64::max(
            s0 + nf * (d_sum - h_sum),
            c_max - h_sum + (nf - 1.0) * (d_sum - h_sum).max(0.0),
        );
        self.host_s += nf * h_sum;
        self.device_s = self.host_s + s_n;
    }
}

/// One device's kernels of a pass in order: (op, its device time for one instance).
/// Consecutive ops of one layer group with the same repeat count form a block.
pub fn issue<'a>(
    rt: &RuntimeSpec,
    phase: Phase,
    ops: impl IntoIterator<Item = (&'a Op, f64)>,
) -> (IssueQueue, RuntimeReport) {
    let graph = rt.replays_graph(phase == Phase::Decode);
    let c = rt.kernel_issue_s();
    let mut q = IssueQueue::default();
    let mut rep = RuntimeReport {
        name: rt.name.clone(),
        graph,
        ..Default::default()
    };
    if graph {
        // One launch, then every kernel back to back.
        let launch = rt.graph_launch_us.unwrap_or(0.0) * 1e-6;
        q.push(launch, 0.0);
        rep.kernels = 1;
        rep.issue_s = launch;
        for (op, d) in ops {
            q.device_s += d * op.repeat as f64;
        }
        return (q, rep);
    }
    let mut block: Vec<(f64, f64, u64)> = Vec::new();
    let mut key: Option<(Option<u32>, u64)> = None;
    for (op, d) in ops {
        let k = (op.layer, op.repeat);
        if key != Some(k) {
            if let Some((_, n)) = key {
                q.push_block(&block, n);
            }
            block.clear();
            key = Some(k);
        }
        let launches = kernels(op);
        rep.kernels += launches * op.repeat;
        if launches == 0 {
            // An epilogue: device time inside its producer's kernel, nothing to issue.
            match block.last_mut() {
                Some(last) if last.2 == 1 => last.1 += d,
                _ => block.push((0.0, d, 1)),
            }
            continue;
        }
        // A multi-launch op (a recurrence's steps): its time spread over its launches.
        block.push((c, d / launches as f64, launches));
    }
    if let Some((_, n)) = key {
        q.push_block(&block, n);
    }
    rep.issue_s = q.host_s;
    (q, rep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn brute(block: &[(f64, f64, u64)], n: u64, start: IssueQueue) -> IssueQueue {
        let mut q = start;
        for _ in 0..n {
            for &(c, d, l) in block {
                for _ in 0..l {
                    q.push(c, d);
                }
            }
        }
        q
    }

    proptest! {
        #[test]
        fn closed_form_equals_the_recurrence(
            block in prop::collection::vec((0.0f64..50.0, 0.0f64..80.0, 1u64..6), 1..8),
            n in 1u64..40,
            h0 in 0.0f64..100.0,
            lead in 0.0f64..100.0,
        ) {
            let start = IssueQueue { host_s: h0, device_s: h0 + lead };
            let want = brute(&block, n, start);
            let mut got = start;
            got.push_block(&block, n);
            prop_assert!((got.device_s - want.device_s).abs() < 1e-9 * want.device_s.max(1.0));
            prop_assert!((got.host_s - want.host_s).abs() < 1e-9 * want.host_s.max(1.0));
        }

        #[test]
        fn issue_never_makes_a_pass_faster(
            block in prop::collection::vec((0.0f64..50.0, 0.0f64..80.0, 1u64..6), 1..8),
            n in 1u64..40,
        ) {
            let mut q = IssueQueue::default();
            q.push_block(&block, n);
            let device: f64 = block.iter().map(|k| k.1 * k.2 as f64).sum::<f64>() * n as f64;
            let host: f64 = block.iter().map(|k| k.0 * k.2 as f64).sum::<f64>() * n as f64;
            prop_assert!(q.device_s >= device.max(host) - 1e-9);
        }
    }

    #[test]
    fn short_kernels_wait_for_the_host_long_ones_hide_it() {
        let mut q = IssueQueue::default();
        q.push_block(&[(10.0, 1.0, 1)], 100);
        assert!((q.device_s - 1001.0).abs() < 1e-9, "{}", q.device_s);
        let mut q = IssueQueue::default();
        q.push_block(&[(10.0, 100.0, 1)], 100);
        assert!((q.device_s - 10010.0).abs() < 1e-9, "{}", q.device_s);
    }
}
