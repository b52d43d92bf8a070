//! A vLLM-style continuous-batching scheduler over a paged KV cache.
//!
//! Each iteration (vLLM v1 scheduler, Kwon et al. 2023 "Efficient Memory Management for
//! Large Language Model Serving with PagedAttention", SOSP; Agrawal et al. 2024
//! "Sarathi-Serve" for chunked prefill):
//! 1. Running sequences, oldest first, each get their next tokens within the token budget:
//!    one token for a decode, the next prompt chunk for a prefill. A sequence whose tokens
//!    need a new KV block when none is free preempts the most recently admitted running
//!    sequence (its blocks are freed and it is *recomputed* on resume — vLLM's default for
//!    single-sequence requests), repeatedly, possibly itself.
//! 2. If nothing was preempted, waiting requests are admitted in arrival order while the
//!    token budget, the running-sequence limit and free blocks allow.
//!
//! Two engine choices change steps 1 and 2 ([`Admission`], [`SchedulerConfig::chunked_prefill`]):
//! TensorRT-LLM's default capacity policy claims a request's whole KV cache when it admits
//! it, so nothing is ever preempted, and without chunked context a prompt runs whole in one
//! iteration or waits for one with room for it.
//! 3. The iteration's cost comes from the [`StepModel`]; the prompt-finishing chunk and
//!    every decode sample one token at the end of the iteration.
//!
//! Invariants: every request finishes (checked up front that each fits the KV pool alone);
//! blocks in use never exceed the pool; a sequence's KV never exceeds
//! `input + output − 1` tokens.

use std::collections::VecDeque;

use serde::Serialize;

use xpusim_target::EnergyBreakdown;

use crate::step::{EnergyParts, IterationShape, PrefillChunk, StepModel};
use crate::workload::Request;
use crate::ServeError;

/// vLLM `max_num_seqs` default (EngineArgs).
pub const VLLM_MAX_SEQS: u64 = 256;
/// vLLM `max_num_batched_tokens` default with chunked prefill for online serving
/// (vLLM ≥ 0.5 EngineArgs: 2048 tokens; Sarathi-Serve uses budgets of 512–2048).
pub const VLLM_MAX_BATCHED_TOKENS: u64 = 2048;
/// vLLM paged-attention block size default, tokens per block (Kwon et al. 2023 §6).
pub const VLLM_BLOCK_TOKENS: u64 = 16;

/// Most draft tokens per verification step: speculative decoding papers use γ ≤ 16
/// (Leviathan et al. 2023 go to γ = 10; EAGLE trees verify up to ~60 candidates), so 1,024
/// leaves room for any tree while α^(γ+1) stays well defined.
pub const MAX_DRAFT_TOKENS: u64 = 1024;

/// Speculative decoding (Leviathan, Kalman & Matias 2023, "Fast Inference from Transformers
/// via Speculative Decoding", ICML): a draft model proposes `draft_tokens` (γ) tokens, the
/// target verifies them in one pass of `γ + 1` query tokens, and each drafted token is
/// accepted with probability `acceptance` (α, i.i.d.).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Speculation {
    pub draft_tokens: u64,
    pub acceptance: f64,
}

impl Speculation {
    /// Expected tokens per verification step, `(1 − α^(γ+1)) / (1 − α)` (Leviathan et al.
    /// 2023, Eq. 1); `γ + 1` when α = 1.
    pub fn expected_tokens(&self) -> f64 {
        let (a, g) = (self.acceptance, self.draft_tokens as f64);
        if a >= 1.0 {
            g + 1.0
        } else {
            (1.0 - a.powf(g + 1.0)) / (1.0 - a)
        }
    }
}

/// How a request claims KV-cache blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Admission {
    /// Blocks as the sequence grows (vLLM's paged cache): more requests run at once, and a
    /// running sequence that finds no free block preempts the newest one, which is
    /// recomputed on resume.
    #[default]
    OnDemand,
    /// Blocks for the whole request (`input + output − 1` tokens) claimed at admission, so
    /// no sequence is ever preempted: TensorRT-LLM's `GUARANTEED_NO_EVICT` capacity
    /// scheduler policy, the default of its executor and of `trtllm-bench throughput`
    /// (`--scheduler_policy`, tensorrt_llm/bench/benchmark/throughput.py).
    Reserve,
}

impl Admission {
    /// Parses `on-demand` (alias `vllm`) or `reserve` (alias `no-evict`).
    pub fn parse(s: &str) -> Result<Admission, ServeError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "on-demand" | "vllm" => Ok(Admission::OnDemand),
            "reserve" | "no-evict" => Ok(Admission::Reserve),
            other => Err(ServeError::invalid(
                "admission",
                format!("unknown policy `{other}`: expected on-demand or reserve"),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SchedulerConfig {
    /// Token budget of one iteration (prefill chunk tokens + decodes).
    pub max_batched_tokens: u64,
    /// Running sequences at most.
    pub max_seqs: u64,
    /// Largest prefill chunk of one sequence in one iteration.
    pub max_chunk: u64,
    /// Tokens per KV block.
    pub block_tokens: u64,
    /// Speculative decoding of every decode (the step model prices the draft's work).
    pub speculation: Option<Speculation>,
    /// How requests claim KV blocks.
    pub admission: Admission,
    /// Prompts may be split over iterations (vLLM's chunked prefill, Sarathi-Serve). Off, a
    /// prompt runs whole in one iteration, as TensorRT-LLM's executor runs context requests
    /// unless `enable_chunked_context` is set (`trtllm-bench throughput` leaves it off).
    pub chunked_prefill: bool,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            max_batched_tokens: VLLM_MAX_BATCHED_TOKENS,
            max_seqs: VLLM_MAX_SEQS,
            max_chunk: VLLM_MAX_BATCHED_TOKENS,
            block_tokens: VLLM_BLOCK_TOKENS,
            speculation: None,
            admission: Admission::OnDemand,
            chunked_prefill: true,
        }
    }
}

impl SchedulerConfig {
    /// Checks every count is at least 1 and physically sensible.
    pub fn validate(&self) -> Result<(), ServeError> {
        for (f, v) in [
            ("max batched tokens", self.max_batched_tokens),
            ("max running sequences", self.max_seqs),
            ("prefill chunk", self.max_chunk),
            ("KV block size", self.block_tokens),
        ] {
            if v == 0 {
                return Err(ServeError::invalid(f, "must be at least 1"));
            }
            // Token and sequence counts above one request's token limit describe no real
            // engine (vLLM's defaults are 8,192 batched tokens, 256 sequences, 16-token
            // blocks) and would overflow KV byte counts.
            if v > crate::MAX_TOKENS_PER_REQUEST {
                return Err(ServeError::invalid(
                    f,
                    format!("{v}: expected at most {}", crate::MAX_TOKENS_PER_REQUEST),
                ));
            }
        }
        if let Some(sp) = self.speculation {
            if sp.draft_tokens == 0 || sp.draft_tokens > MAX_DRAFT_TOKENS {
                return Err(ServeError::invalid(
                    "draft tokens",
                    format!("{}: expected 1 to {MAX_DRAFT_TOKENS}", sp.draft_tokens),
                ));
            }
            if !(0.0..=1.0).contains(&sp.acceptance) {
                return Err(ServeError::invalid(
                    "acceptance rate",
                    format!("expected a probability in [0, 1], got {}", sp.acceptance),
                ));
            }
        }
        Ok(())
    }
}

/// What happened to one request. Serialised with its latencies (TTFT, TPOT, end to end)
/// beside the raw times, so a per-request table needs no arithmetic of its own.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(into = "RequestRow")]
pub struct RequestRecord {
    pub arrival_s: f64,
    pub first_token_s: f64,
    pub finish_s: f64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub preemptions: u32,
}

impl RequestRecord {
    /// Time to first token.
    pub fn ttft_s(&self) -> f64 {
        self.first_token_s - self.arrival_s
    }

    /// Time per output token after the first (None for a one-token output).
    pub fn tpot_s(&self) -> Option<f64> {
        (self.output_tokens > 1)
            .then(|| (self.finish_s - self.first_token_s) / (self.output_tokens - 1) as f64)
    }

    /// Arrival to last token.
    pub fn e2e_s(&self) -> f64 {
        self.finish_s - self.arrival_s
    }
}

#[derive(Serialize)]
struct RequestRow {
    arrival_s: f64,
    first_token_s: f64,
    finish_s: f64,
    input_tokens: u64,
    output_tokens: u64,
    preemptions: u32,
    ttft_s: f64,
    tpot_s: Option<f64>,
    e2e_s: f64,
}

impl From<RequestRecord> for RequestRow {
    fn from(r: RequestRecord) -> RequestRow {
        RequestRow {
            arrival_s: r.arrival_s,
            first_token_s: r.first_token_s,
            finish_s: r.finish_s,
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            preemptions: r.preemptions,
            ttft_s: r.ttft_s(),
            tpot_s: r.tpot_s(),
            e2e_s: r.e2e_s(),
        }
    }
}

/// Raw outcome of a simulation; [`crate::metrics`] turns it into a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimOutcome {
    pub records: Vec<RequestRecord>,
    pub iterations: u64,
    pub preemptions: u64,
    /// Step energy plus idle power over the gaps between steps.
    pub energy_j: f64,
    /// `energy_j` by part (the gaps' idle power in `idle_j`; no host power).
    pub energy: EnergyBreakdown,
    /// Host power charged over the whole makespan, W ([`StepModel::node_power_w`]).
    pub node_power_w: f64,
    pub busy_s: f64,
    pub idle_s: f64,
    /// Time the last request finished.
    pub end_s: f64,
    pub kv_capacity_bytes: u64,
    pub kv_block_bytes: u64,
    pub peak_kv_bytes: u64,
    /// (time, KV bytes in use) after every iteration.
    pub kv_samples: Vec<(f64, u64)>,
    /// Prompt tokens processed (including recomputation) and tokens emitted by decodes.
    pub prefill_tokens: u64,
    pub decode_tokens: u64,
    /// Every token sampled (prompt-finishing chunks and decodes); equals the requests'
    /// output tokens when the simulation is correct.
    pub sampled_tokens: u64,
}

#[derive(Debug, Clone, Copy)]
struct Seq {
    computed: u64,
    generated: u64,
    blocks: u64,
    prefilling: bool,
    first_token_s: f64,
    finish_s: f64,
    preemptions: u32,
    done: bool,
    /// Expected tokens accumulated by speculative steps; whole tokens are emitted.
    credit: f64,
}

impl Seq {
    fn target(&self, r: &Request) -> u64 {
        r.input_tokens + self.generated
    }
}

/// The paged KV pool of one replica, in units of blocks.
struct Pool {
    block_tokens: u64,
    /// Bytes of one block of `block_tokens` tokens (0 for a model without a KV cache).
    block_bytes: u64,
    /// Bytes of one pool unit: a block, or a sequence's state for a pure SSM.
    unit_bytes: u64,
    /// Units a sequence's fixed state (SSM layers) occupies while it holds any cache.
    state_blocks: u64,
    total_blocks: u64,
    capacity: u64,
}

impl Pool {
    fn new(model: &dyn StepModel, cfg: &SchedulerConfig) -> Pool {
        let block_bytes = model.kv_bytes_per_token() * cfg.block_tokens;
        let state = model.state_bytes_per_seq();
        let unit_bytes = if block_bytes > 0 { block_bytes } else { state };
        let capacity = model.kv_capacity_bytes();
        Pool {
            block_tokens: cfg.block_tokens,
            block_bytes,
            unit_bytes,
            state_blocks: state.div_ceil(unit_bytes.max(1)),
            total_blocks: capacity.checked_div(unit_bytes).unwrap_or(u64::MAX / 4),
            capacity,
        }
    }

    /// Units a sequence holding `tokens` tokens of cache occupies.
    fn blocks_for(&self, tokens: u64) -> u64 {
        let kv = if self.block_bytes > 0 {
            tokens.div_ceil(self.block_tokens)
        } else {
            0
        };
        kv + self.state_blocks
    }

    /// Every request must fit the pool alone at its peak (`input + output − 1` tokens).
    fn check(&self, model: &dyn StepModel, requests: &[Request]) -> Result<(), ServeError> {
        for (i, r) in requests.iter().enumerate() {
            let need = self.blocks_for(r.input_tokens + r.output_tokens - 1);
            if need > self.total_blocks {
                let m = model.memory();
                return Err(ServeError::KvExhausted {
                    request: i,
                    input_tokens: r.input_tokens,
                    output_tokens: r.output_tokens,
                    needed_bytes: need * self.unit_bytes,
                    capacity_bytes: self.capacity,
                    weight_bytes: m.weight_bytes,
                    memory_bytes: m.memory_bytes,
                    reserve_bytes: m.memory_bytes - m.usable_bytes + m.reserve_bytes,
                });
            }
        }
        Ok(())
    }
}

/// Without chunked prefill every prompt must fit one iteration's token budget: a request's
/// input, or with on-demand blocks, where a preempted request recomputes what it generated,
/// all but its last token.
fn check_whole_prompts(requests: &[Request], cfg: &SchedulerConfig) -> Result<(), ServeError> {
    for (i, r) in requests.iter().enumerate() {
        let longest = match cfg.admission {
            Admission::Reserve => r.input_tokens,
            Admission::OnDemand => r.input_tokens + r.output_tokens - 1,
        };
        if longest > cfg.max_batched_tokens {
            return Err(ServeError::invalid(
                "max batched tokens",
                format!(
                    "request {i}: without chunked prefill its {longest}-token prompt must run \
                     in one iteration, which holds {} tokens",
                    cfg.max_batched_tokens
                ),
            ));
        }
    }
    Ok(())
}

/// Fails with [`ServeError::KvExhausted`] (naming the request's index in `requests`) when a
/// request could never fit `model`'s KV pool on its own.
pub fn check_fits(
    model: &dyn StepModel,
    requests: &[Request],
    cfg: &SchedulerConfig,
) -> Result<(), ServeError> {
    Pool::new(model, cfg).check(model, requests)
}

/// Runs `requests` (sorted by arrival) through one replica.
pub fn simulate(
    model: &dyn StepModel,
    requests: &[Request],
    cfg: &SchedulerConfig,
) -> Result<SimOutcome, ServeError> {
    run(model, requests, cfg, false)
}

/// Runs requests whose prompt KV cache arrives ready-made (the decode pool of a
/// disaggregated server): each is admitted straight into decoding with its first token
/// already sampled by the prefill pool. A preempted one is recomputed here, as in vLLM.
pub(crate) fn simulate_decode_only(
    model: &dyn StepModel,
    requests: &[Request],
    cfg: &SchedulerConfig,
) -> Result<SimOutcome, ServeError> {
    if let Some((i, _)) = requests
        .iter()
        .enumerate()
        .find(|(_, r)| r.output_tokens < 2)
    {
        return Err(ServeError::invalid(
            "requests",
            format!("request {i} has no token left to decode"),
        ));
    }
    run(model, requests, cfg, true)
}

fn run(
    model: &dyn StepModel,
    requests: &[Request],
    cfg: &SchedulerConfig,
    prefilled: bool,
) -> Result<SimOutcome, ServeError> {
    cfg.validate()?;
    if requests.windows(2).any(|w| w[1].arrival_s < w[0].arrival_s) {
        return Err(ServeError::invalid(
            "requests",
            "must be sorted by arrival time",
        ));
    }
    let pool = Pool::new(model, cfg);
    pool.check(model, requests)?;
    if !cfg.chunked_prefill {
        check_whole_prompts(requests, cfg)?;
    }
    let (unit_bytes, total_blocks, capacity) = (pool.unit_bytes, pool.total_blocks, pool.capacity);
    let blocks_for = |tokens: u64| pool.blocks_for(tokens);
    let mut seqs = vec![
        Seq {
            computed: 0,
            generated: 0,
            blocks: 0,
            prefilling: true,
            first_token_s: f64::NAN,
            finish_s: f64::NAN,
            preemptions: 0,
            done: false,
            credit: 0.0,
        };
        requests.len()
    ];
    let mut out = SimOutcome {
        records: Vec::new(),
        iterations: 0,
        preemptions: 0,
        energy_j: 0.0,
        energy: EnergyBreakdown::default(),
        node_power_w: model.node_power_w(),
        busy_s: 0.0,
        idle_s: 0.0,
        end_s: 0.0,
        kv_capacity_bytes: capacity,
        kv_block_bytes: unit_bytes,
        peak_kv_bytes: 0,
        kv_samples: Vec::new(),
        prefill_tokens: 0,
        decode_tokens: 0,
        sampled_tokens: 0,
    };
    let idle_w = model.idle_power_w();
    let mut parts = EnergyParts::default();
    // Query tokens of a decode and the tokens it emits on average.
    let q_dec = cfg.speculation.map_or(1, |s| s.draft_tokens + 1);
    let per_step = cfg.speculation.map_or(1.0, |s| s.expected_tokens());
    let mut free = total_blocks;
    let mut running: Vec<usize> = Vec::new();
    let mut waiting: VecDeque<usize> = VecDeque::new();
    let mut sched: Vec<(usize, u64)> = Vec::new();
    let mut chunks: Vec<PrefillChunk> = Vec::new();
    let mut contexts: Vec<u64> = Vec::new();
    let mut next = 0;
    let mut now = requests.first().map_or(0.0, |r| r.arrival_s);
    let mut finished = 0;
    while finished < requests.len() {
        while next < requests.len() && requests[next].arrival_s <= now {
            waiting.push_back(next);
            next += 1;
        }
        if running.is_empty() && waiting.is_empty() {
            let t = requests[next].arrival_s;
            out.idle_s += t - now;
            out.energy_j += idle_w * (t - now);
            parts.static_j += idle_w * (t - now);
            now = t;
            continue;
        }
        sched.clear();
        let mut budget = cfg.max_batched_tokens;
        let mut preempted = false;
        let mut i = 0;
        while i < running.len() && budget > 0 {
            let s = running[i];
            let r = &requests[s];
            let q = seqs[s];
            let tok = if q.prefilling {
                let rest = q.target(r) - q.computed;
                // Unchunked prompts are admitted whole and finish in their first iteration;
                // this keeps a later change from splitting one silently.
                if !cfg.chunked_prefill && rest > budget {
                    break;
                }
                rest.min(budget).min(cfg.max_chunk)
            } else if q_dec > budget {
                break;
            } else {
                q_dec
            };
            // Never beyond the request's own peak, so the up-front fit check holds.
            let peak = r.input_tokens + r.output_tokens - 1;
            let need = blocks_for((q.computed + tok).min(peak)).saturating_sub(q.blocks);
            let mut self_preempted = false;
            while need > free {
                let Some(v) = running.pop() else { break };
                let vs = &mut seqs[v];
                free += vs.blocks;
                vs.blocks = 0;
                vs.computed = 0;
                vs.prefilling = true;
                vs.preemptions += 1;
                waiting.push_front(v);
                out.preemptions += 1;
                preempted = true;
                if v == s {
                    self_preempted = true;
                    break;
                }
            }
            if self_preempted {
                break;
            }
            free -= need;
            seqs[s].blocks += need;
            sched.push((s, tok));
            budget -= tok;
            i += 1;
        }
        if !preempted {
            while budget > 0 && (running.len() as u64) < cfg.max_seqs {
                let Some(&s) = waiting.front() else { break };
                let r = &requests[s];
                let arrives_cached = prefilled && seqs[s].generated == 0;
                let peak = r.input_tokens + r.output_tokens - 1;
                let (tok, cached) = if arrives_cached {
                    (q_dec, (r.input_tokens + q_dec).min(peak))
                } else if cfg.chunked_prefill {
                    let tok = seqs[s].target(r).min(budget).min(cfg.max_chunk);
                    (tok, tok)
                } else {
                    (seqs[s].target(r), seqs[s].target(r))
                };
                let need = match cfg.admission {
                    Admission::OnDemand => blocks_for(cached),
                    Admission::Reserve => blocks_for(peak),
                };
                if need > free || tok > budget {
                    break;
                }
                waiting.pop_front();
                running.push(s);
                free -= need;
                let q = &mut seqs[s];
                q.blocks = need;
                if arrives_cached {
                    q.computed = r.input_tokens;
                    q.generated = 1;
                    q.prefilling = false;
                    out.sampled_tokens += 1;
                }
                sched.push((s, tok));
                budget -= tok;
            }
        }
        if sched.is_empty() {
            // Unreachable given the up-front fit check; refuse rather than spin.
            return Err(ServeError::invalid(
                "scheduler",
                format!("no request could be scheduled at t = {now} s with {free} of {total_blocks} KV blocks free"),
            ));
        }
        chunks.clear();
        contexts.clear();
        for &(s, tok) in &sched {
            let q = &seqs[s];
            if q.prefilling {
                chunks.push(PrefillChunk {
                    tokens: tok,
                    prior: q.computed,
                    last: q.computed + tok == q.target(&requests[s]),
                });
            } else {
                contexts.push(q.computed);
            }
        }
        let cost = model.step(&IterationShape {
            prefill: &chunks,
            decode_contexts: &contexts,
            decode_tokens: q_dec,
        })?;
        now += cost.time_s;
        out.busy_s += cost.time_s;
        out.energy_j += cost.energy_j;
        parts.add_scaled(&cost.parts, 1.0);
        out.iterations += 1;
        out.prefill_tokens += chunks.iter().map(|c| c.tokens).sum::<u64>();
        for &(s, tok) in &sched {
            let r = &requests[s];
            let q = &mut seqs[s];
            if q.prefilling {
                q.computed += tok;
                if q.computed == q.target(r) {
                    q.generated += 1;
                    out.sampled_tokens += 1;
                    q.prefilling = false;
                    if q.first_token_s.is_nan() {
                        q.first_token_s = now;
                    }
                }
            } else {
                let before = q.credit.floor();
                q.credit += per_step;
                let emitted =
                    ((q.credit.floor() - before) as u64).clamp(1, r.output_tokens - q.generated);
                q.computed += emitted;
                q.generated += emitted;
                out.decode_tokens += emitted;
                out.sampled_tokens += emitted;
            }
            if q.generated == r.output_tokens {
                q.done = true;
                q.finish_s = now;
                free += q.blocks;
                q.blocks = 0;
                finished += 1;
            }
        }
        running.retain(|&s| !seqs[s].done);
        let used = (total_blocks - free).saturating_mul(unit_bytes);
        out.peak_kv_bytes = out.peak_kv_bytes.max(used);
        out.kv_samples.push((now, used));
    }
    out.end_s = now;
    out.energy = parts.named(&model.memory_levels());
    out.records = requests
        .iter()
        .zip(&seqs)
        .map(|(r, q)| RequestRecord {
            arrival_s: r.arrival_s,
            first_token_s: q.first_token_s,
            finish_s: q.finish_s,
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            preemptions: q.preemptions,
        })
        .collect();
    Ok(out)
}
