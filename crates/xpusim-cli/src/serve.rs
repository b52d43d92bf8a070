//! `xpusim serve`: simulate an LLM inference server (arrivals, continuous batching with a
//! paged KV cache, chunked prefill, preemption) on one device or a tensor-parallel group.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Serialize;
use xpusim_ir::{DType, Precision};
use xpusim_models::TransformerConfig;
use xpusim_serve::{
    poisson, read_trace, serve, serve_disaggregated, Admission, Disaggregation, Report, Request,
    SchedulerConfig, Slo, Speculation, SpeculativeStepModel, StepModel, StepOptions,
    TargetStepModel, TokenDist, GPU_MEMORY_UTILIZATION, UNIFORM_EXPERT_IMBALANCE,
};

use crate::args::Format;
use crate::format;

/// Prompt length when none is given: the `random` dataset default of vLLM's
/// `benchmarks/benchmark_serving.py` (`--random-input-len 1024`).
const DEFAULT_INPUT_TOKENS: &str = "1024";
/// Output length when none is given: same benchmark (`--random-output-len 128`).
const DEFAULT_OUTPUT_TOKENS: &str = "128";

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Built-in decoder name (see `xpusim list models`) or a Hugging Face config.json path.
    #[arg(long)]
    pub model: String,
    /// Device or system (preset name or TOML path; `--system` is the same option): one
    /// replica is one device, or a tensor-parallel group of the system's devices.
    #[arg(long, visible_alias = "system")]
    pub hw: String,
    /// Tensor-parallel degree (devices per replica) on a system; default: the smallest power
    /// of two within a node that holds the weights.
    #[arg(long)]
    pub tp: Option<u64>,
    /// Op placement on a system with PIM: auto, attention-on-pim or host-only (default: the
    /// system's).
    #[arg(long)]
    pub placement: Option<String>,
    /// Cap every device's power at this many watts (as `nvidia-smi -pl` does; between the
    /// device's idle power and its TDP): ops whose dynamic power would exceed the cap run
    /// their cores at a lower clock and voltage until they fit. Default: the device file's `power_cap_w`, else TDP.
    #[arg(long)]
    pub power_cap_w: Option<f64>,
    /// The serving stack around the kernels (`xpusim list runtimes`, or a runtime TOML):
    /// host kernel issue, CUDA-graph replay, per-step scheduling and sampling (e.g.
    /// `sarathi-vllm`). Default: none (device time alone).
    #[arg(long)]
    pub runtime: Option<String>,
    /// Poisson arrival rate, requests/s (`inf`: all requests arrive at t = 0); a comma
    /// list (`1,5,10`) sweeps the rates with the same seed and prints one row per rate.
    #[arg(long, required_unless_present_any = ["trace", "slo"], value_delimiter = ',')]
    pub rate: Vec<f64>,
    /// Find the highest request rate whose latency percentiles meet these bounds, e.g.
    /// `ttft_p99=1s,tpot_p99=50ms` (ttft|tpot|e2e _ mean|p50|p90|p99|max; s, ms or us):
    /// bisection over the serving simulation, starting at --rate (default 1 req/s).
    #[arg(long, conflicts_with = "trace")]
    pub slo: Option<String>,
    /// Requests to simulate (with --rate).
    #[arg(long, default_value_t = 1000)]
    pub requests: usize,
    /// Prompt tokens per request: N, LO..HI (uniform) or exp:MEAN.
    #[arg(long, default_value = DEFAULT_INPUT_TOKENS)]
    pub input_tokens: String,
    /// Output tokens per request: N, LO..HI (uniform) or exp:MEAN.
    #[arg(long, default_value = DEFAULT_OUTPUT_TOKENS)]
    pub output_tokens: String,
    /// Trace CSV with rows `arrival_s,input_tokens,output_tokens` (replaces --rate).
    #[arg(long, conflicts_with = "rate")]
    pub trace: Option<PathBuf>,
    /// Running sequences at most (vLLM max_num_seqs).
    #[arg(long, default_value_t = xpusim_serve::scheduler::VLLM_MAX_SEQS)]
    pub max_batch: u64,
    /// Tokens per iteration at most (vLLM max_num_batched_tokens).
    #[arg(long, default_value_t = xpusim_serve::scheduler::VLLM_MAX_BATCHED_TOKENS)]
    pub max_tokens: u64,
    /// Largest prefill chunk of one request per iteration (default: --max-tokens).
    #[arg(long)]
    pub chunk: Option<u64>,
    /// Tokens per KV-cache block.
    #[arg(long, default_value_t = xpusim_serve::scheduler::VLLM_BLOCK_TOKENS)]
    pub block_size: u64,
    /// How a request claims KV blocks: `on-demand` as it grows, preempting the newest
    /// sequence when none is free (vLLM), or `reserve` its whole input + output at admission,
    /// never preempting (TensorRT-LLM's GUARANTEED_NO_EVICT).
    #[arg(long, default_value = "on-demand", value_parser = parse_admission)]
    pub admission: Admission,
    /// Run every prompt whole in one iteration (TensorRT-LLM without chunked context)
    /// instead of splitting it over iterations.
    #[arg(long)]
    pub no_chunking: bool,
    /// Time-to-first-token SLO for goodput, ms.
    #[arg(long)]
    pub slo_ttft_ms: Option<f64>,
    /// Time-per-output-token SLO for goodput, ms.
    #[arg(long)]
    pub slo_tpot_ms: Option<f64>,
    /// Seed of the arrival process and token-count draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number format: bf16|fp16|fp8|int8|w8a16|w4a16|fp8-w8a8|... (default: the chip's 16-bit
    /// format).
    #[arg(long)]
    pub precision: Option<String>,
    /// KV-cache format (fp8, int8, bf16, ...; default: as --precision).
    #[arg(long)]
    pub kv_precision: Option<String>,
    /// MoE expert load imbalance, max/mean tokens per expert (1 = uniform routing).
    #[arg(long, default_value_t = UNIFORM_EXPERT_IMBALANCE)]
    pub moe_imbalance: f64,
    /// Fraction of device memory the server may use (vLLM gpu_memory_utilization).
    #[arg(long, default_value_t = GPU_MEMORY_UTILIZATION)]
    pub memory_utilization: f64,
    /// KV cache as this fraction of the memory the weights and activations leave
    /// (TensorRT-LLM kv_cache_free_gpu_mem_fraction); replaces --memory-utilization.
    #[arg(long, conflicts_with = "memory_utilization")]
    pub kv_free_fraction: Option<f64>,
    /// Draft model (name or config.json) for speculative decoding, on --model's devices.
    #[arg(long, requires = "acceptance")]
    pub draft_model: Option<String>,
    /// Tokens the draft proposes per step (γ; vLLM's documented example uses 5).
    #[arg(long, default_value_t = 5, requires = "draft_model")]
    pub draft_tokens: u64,
    /// Probability that the target accepts a drafted token (α, measured for the model pair
    /// and data; Leviathan et al. 2023 report 0.5–0.9).
    #[arg(long, requires = "draft_model")]
    pub acceptance: Option<f64>,
    /// Prefill/decode disaggregation: P prefill and D decode replicas (e.g. `1:1`), the KV
    /// cache crossing the device's fabric link.
    #[arg(long, value_name = "P:D")]
    pub disaggregate: Option<String>,
    /// Price of one device-hour, USD, for $ per million output tokens (default: the
    /// system's cited price with --system; a single --hw device has none, so give it).
    #[arg(long)]
    pub price_per_device_hour: Option<f64>,
    /// With --format json: each request's arrival, first-token and finish times, token
    /// counts and preemptions, in request order (`requests` in the JSON).
    #[arg(long)]
    pub per_request: bool,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn parse_admission(s: &str) -> Result<Admission, String> {
    Admission::parse(s).map_err(|e| e.to_string())
}

fn precision(a: &ServeArgs, natural16: DType) -> Result<Precision> {
    let mut p = match &a.precision {
        Some(s) => Precision::parse(s, natural16).context("--precision")?,
        None => Precision::uniform(natural16),
    };
    if let Some(k) = &a.kv_precision {
        p.kv = DType::parse(k).context("--kv-precision")?;
    }
    Ok(p)
}

/// A built-in decoder or a Hugging Face config.json, with the flag named in errors.
fn decoder(flag: &str, name: &str) -> Result<TransformerConfig> {
    xpusim_serve::load_decoder(name).with_context(|| flag.to_string())
}

/// One replica's step model for `cfg` and the cited price per device-hour (systems only).
fn replica(
    a: &ServeArgs,
    sched: &SchedulerConfig,
    cfg: TransformerConfig,
) -> Result<(Box<dyn StepModel>, Option<f64>)> {
    let options = |natural16: DType| -> Result<StepOptions> {
        let mut o = StepOptions::new(precision(a, natural16)?, sched.max_batched_tokens);
        o.moe_imbalance = a.moe_imbalance;
        o.memory_utilization = a.memory_utilization;
        o.kv_free_fraction = a.kv_free_fraction;
        Ok(o)
    };
    let args = crate::target_args::TargetArgs {
        placement: a.placement.clone(),
        power_cap_w: a.power_cap_w,
        runtime: a.runtime.clone(),
        ..Default::default()
    };
    let target = crate::target_args::target(&a.hw, &args)?;
    let o = options(target.natural_dtype())?;
    let Some(sys) = target.system_spec() else {
        if let Some(tp) = a.tp.filter(|&tp| tp != 1) {
            bail!(
                "--tp {tp} needs a multi-device system, but `{}` is one device (see `xpusim \
                 list systems`)",
                a.hw
            );
        }
        // Device specs carry a purchase price, not an hourly one: $/Mtok needs the flag.
        return Ok((Box::new(TargetStepModel::new(cfg, target, 1, o)?), None));
    };
    let m = match a.tp {
        Some(tp) => TargetStepModel::new(cfg, target, tp, o)?,
        None => {
            // The smallest tensor-parallel group within a node whose memory holds the model.
            let mut tp = 1;
            loop {
                match TargetStepModel::new(cfg.clone(), target.clone(), tp, o) {
                    Ok(m) => break m,
                    Err(xpusim_serve::ServeError::WeightsDoNotFit { .. })
                        if tp * 2 <= sys.spec.devices_per_node =>
                    {
                        tp *= 2
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    };
    let price = m.price_per_device_hour();
    Ok((Box::new(m), price))
}

/// The step model (target, plus the draft with --draft-model) and the cited price.
fn step_model(a: &ServeArgs, sched: &SchedulerConfig) -> Result<(Box<dyn StepModel>, Option<f64>)> {
    let (target, price) = replica(a, sched, decoder("--model", &a.model)?)?;
    let Some(d) = &a.draft_model else {
        return Ok((target, price));
    };
    let (draft, _) = replica(a, sched, decoder("--draft-model", d)?).context("--draft-model")?;
    let m = SpeculativeStepModel::new(target, draft, a.memory_utilization, a.kv_free_fraction)?;
    Ok((Box::new(m), price))
}

/// `P:D` replica counts, each at least 1.
/// Most replicas in one pool: ten times the largest GPU clusters built (about 10⁵
/// devices, e.g. xAI Colossus at 100,000 H100s in 2024), so counts of devices and bytes over
/// the pools stay far inside 64 bits.
const MAX_REPLICAS: u64 = 1_000_000;

fn pools(s: &str) -> Result<(u64, u64)> {
    let parse = |x: &str| {
        x.trim()
            .parse::<u64>()
            .ok()
            .filter(|&n| (1..=MAX_REPLICAS).contains(&n))
    };
    match s.split_once(':').map(|(p, d)| (parse(p), parse(d))) {
        Some((Some(p), Some(d))) => Ok((p, d)),
        _ => bail!(
            "--disaggregate `{s}`: expected P:D prefill and decode replica counts from 1 to \
             {MAX_REPLICAS}, e.g. 1:1"
        ),
    }
}

fn slo_s(flag: &str, ms: Option<f64>) -> Result<Option<f64>> {
    match ms {
        Some(v) if !(v.is_finite() && v > 0.0) => {
            bail!("{flag} must be a positive number of ms, got {v}")
        }
        v => Ok(v.map(|v| v * 1e-3)),
    }
}

pub fn main(a: &ServeArgs) -> Result<()> {
    let sched = SchedulerConfig {
        max_batched_tokens: a.max_tokens,
        max_seqs: a.max_batch,
        max_chunk: a.chunk.unwrap_or(a.max_tokens),
        block_tokens: a.block_size,
        speculation: a.acceptance.map(|acceptance| Speculation {
            draft_tokens: a.draft_tokens,
            acceptance,
        }),
        admission: a.admission,
        chunked_prefill: !a.no_chunking,
    };
    sched.validate()?;
    let slo = Slo {
        ttft_s: slo_s("--slo-ttft-ms", a.slo_ttft_ms)?,
        tpot_s: slo_s("--slo-tpot-ms", a.slo_tpot_ms)?,
    };
    if let Some(p) = a.price_per_device_hour {
        if !(p.is_finite() && p >= 0.0) {
            bail!("--price-per-device-hour must be a non-negative number of USD, got {p}");
        }
    }
    // Each run: the rate (None for a trace). Its requests are drawn when it runs, so a long
    // list of rates holds one run's requests at a time.
    let dists = (
        TokenDist::parse("--input-tokens", &a.input_tokens)?,
        TokenDist::parse("--output-tokens", &a.output_tokens)?,
    );
    let targets = a.slo.as_deref().map(xpusim_serve::parse_slo).transpose()?;
    if targets.is_some() && a.rate.len() > 1 {
        bail!("--slo searches the rate itself: give at most one --rate, where it starts");
    }
    let runs: Vec<Option<f64>> = match &a.trace {
        Some(_) => vec![None],
        None if targets.is_some() => a.rate.first().map(|&r| vec![Some(r)]).unwrap_or_default(),
        None if a.rate.is_empty() => bail!("give --rate R (Poisson arrivals) or --trace FILE.csv"),
        None => a.rate.iter().map(|&r| Some(r)).collect(),
    };
    let requests_of = |rate: Option<f64>| -> Result<Vec<Request>> {
        Ok(match (rate, &a.trace) {
            (Some(r), _) => poisson(r, a.requests, dists.0, dists.1, a.seed)?,
            (None, Some(path)) => read_trace(path)?,
            (None, None) => bail!("give --rate R (Poisson arrivals) or --trace FILE.csv"),
        })
    };
    // Check the arrivals before the (slower) step model is built.
    if a.trace.is_none() {
        xpusim_serve::check_count(a.requests)?;
        for r in runs.iter().flatten() {
            poisson(*r, 1, dists.0, dists.1, a.seed)?;
        }
    }
    // One step model for every run, so its memo is filled once.
    let (model, cited_price) = step_model(a, &sched)?;
    let price = a.price_per_device_hour.or(cited_price);
    let dis = match &a.disaggregate {
        None => None,
        Some(pd) => {
            let (p, d) = pools(pd)?;
            let Some(link) = model.kv_link() else {
                bail!(
                    "--disaggregate needs a link for the KV transfer, and {} describes no interconnect",
                    model.hardware()
                );
            };
            Some(Disaggregation {
                prefill_replicas: p,
                decode_replicas: d,
                link,
            })
        }
    };
    if let Some(targets) = &targets {
        let start = a.rate.first().copied().unwrap_or(1.0);
        let (cap, best) = xpusim_serve::max_rate(targets, start, |rate| {
            let requests = poisson(rate, a.requests, dists.0, dists.1, a.seed)?;
            let m = model.as_ref();
            let r = match &dis {
                None => serve(m, &requests, &sched, &slo, price)?,
                Some(d) => serve_disaggregated(m, m, &requests, &sched, d, &slo, price)?,
            };
            Ok(r.metrics)
        })?;
        return crate::serve_slo::print(a, &model.hardware(), &cap, best.as_ref());
    }
    let mut reports = Vec::with_capacity(runs.len());
    for &rate in &runs {
        let m = model.as_ref();
        let requests = requests_of(rate)?;
        let mut r = match &dis {
            None => serve(m, &requests, &sched, &slo, price)?,
            Some(d) => serve_disaggregated(m, m, &requests, &sched, d, &slo, price)?,
        };
        if !(a.per_request && a.format == Format::Json) {
            r.requests = Vec::new();
        }
        reports.push((rate, r));
    }
    match a.format {
        Format::Json => {
            let outs: Vec<JsonOut> = reports
                .iter()
                .map(|(rate, report)| JsonOut {
                    model: &a.model,
                    draft_model: a.draft_model.as_deref(),
                    precision: precision_label(a),
                    requests_from: source(a, *rate),
                    report,
                })
                .collect();
            let text = match outs.as_slice() {
                [one] => serde_json::to_string_pretty(one)?,
                many => serde_json::to_string_pretty(many)?,
            };
            outln!("{text}");
        }
        Format::Csv => print_csv(&reports),
        Format::Table => match reports.as_slice() {
            [(rate, one)] => print_table(a, *rate, one),
            many => print_sweep(a, many),
        },
    }
    Ok(())
}

fn ms(s: f64) -> String {
    format!("{:.1}", s * 1e3)
}

const CSV_HEADER: &str = "rate_per_s,requests,ttft_p50_s,ttft_p99_s,tpot_p50_s,tpot_p99_s,e2e_p50_s,e2e_p99_s,requests_per_s,output_tokens_per_s,goodput_requests_per_s,preemptions,peak_kv_bytes,energy_per_output_token_j,usd_per_million_output_tokens";

/// One row per run (a trace has an empty rate).
fn print_csv(reports: &[(Option<f64>, Report)]) {
    outln!("{CSV_HEADER}");
    for (rate, r) in reports {
        let m = &r.metrics;
        outln!(
            "{},{},{:e},{:e},{:e},{:e},{:e},{:e},{:e},{:e},{:e},{},{},{:e},{}",
            rate.map(|r| r.to_string()).unwrap_or_default(),
            m.requests,
            m.ttft_s.p50,
            m.ttft_s.p99,
            m.tpot_s.p50,
            m.tpot_s.p99,
            m.e2e_s.p50,
            m.e2e_s.p99,
            m.requests_per_s,
            m.output_tokens_per_s,
            m.goodput_requests_per_s,
            m.preemptions,
            m.peak_kv_bytes,
            m.energy_per_output_token_j,
            m.usd_per_million_output_tokens
                .map(|c| format!("{c:e}"))
                .unwrap_or_default()
        );
    }
}

/// A rate sweep: one row per rate.
fn print_sweep(a: &ServeArgs, reports: &[(Option<f64>, Report)]) {
    let Some((_, first)) = reports.first() else {
        return;
    };
    outln!(
        "{} ({}) on {} ({} device{}) — {} requests per rate, in {}, out {}, seed {}",
        a.model,
        precision_label(a),
        first.hardware,
        first.devices,
        if first.devices == 1 { "" } else { "s" },
        a.requests,
        a.input_tokens,
        a.output_tokens,
        a.seed
    );
    let mut t = format::table();
    t.set_header([
        "rate/s",
        "TTFT p50",
        "TTFT p99",
        "TPOT p50",
        "TPOT p99",
        "E2E p99",
        "req/s",
        "out tok/s",
        "goodput/s",
        "preempt",
        "J/tok",
        "$/Mtok",
    ]);
    for (rate, r) in reports {
        let m = &r.metrics;
        t.add_row([
            rate.map(|r| r.to_string()).unwrap_or_default(),
            format::time(m.ttft_s.p50),
            format::time(m.ttft_s.p99),
            format::time(m.tpot_s.p50),
            format::time(m.tpot_s.p99),
            format::time(m.e2e_s.p99),
            format!("{:.2}", m.requests_per_s),
            format!("{:.0}", m.output_tokens_per_s),
            if r.slo.ttft_s.is_some() || r.slo.tpot_s.is_some() {
                format!("{:.2}", m.goodput_requests_per_s)
            } else {
                "no SLO".into()
            },
            m.preemptions.to_string(),
            format!("{:.3}", m.energy_per_output_token_j),
            m.usd_per_million_output_tokens
                .map(|c| format!("{c:.3}"))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    outln!("{t}");
}

/// Where the requests came from, in words.
fn source(a: &ServeArgs, rate: Option<f64>) -> String {
    match (&a.trace, rate) {
        (Some(p), _) => format!("trace {}", p.display()),
        (None, Some(rate)) => format!(
            "Poisson {rate} req/s, in {}, out {}, seed {}",
            a.input_tokens, a.output_tokens, a.seed
        ),
        _ => String::new(),
    }
}

/// The JSON document: what was run, then the report.
#[derive(Serialize)]
struct JsonOut<'a> {
    model: &'a str,
    draft_model: Option<&'a str>,
    precision: String,
    requests_from: String,
    #[serde(flatten)]
    report: &'a Report,
}

fn precision_label(a: &ServeArgs) -> String {
    format!(
        "{}, KV {}",
        a.precision.as_deref().unwrap_or("native 16-bit"),
        a.kv_precision
            .as_deref()
            .unwrap_or("as weights/activations")
    )
}

fn print_table(a: &ServeArgs, rate: Option<f64>, r: &Report) {
    let m = &r.metrics;
    let source = source(a, rate);
    outln!(
        "{} ({}) on {} ({} device{}) — {} requests, {source}",
        a.model,
        precision_label(a),
        r.hardware,
        r.devices,
        if r.devices == 1 { "" } else { "s" },
        m.requests
    );
    let mut t = format::table();
    t.set_header(["latency (ms)", "mean", "p50", "p90", "p99", "max"]);
    for (n, p) in [("TTFT", &m.ttft_s), ("TPOT", &m.tpot_s), ("E2E", &m.e2e_s)] {
        t.add_row([
            n.to_string(),
            ms(p.mean),
            ms(p.p50),
            ms(p.p90),
            ms(p.p99),
            ms(p.max),
        ]);
    }
    outln!("{t}");
    let mut s = format::table();
    s.set_header(["metric", "value"]);
    let gb = |b: f64| format!("{:.2} GB", b / 1e9);
    let rows: Vec<(&str, String)> = vec![
        (
            "throughput",
            format!(
                "{:.2} req/s, {:.0} output tok/s, {:.0} total tok/s",
                m.requests_per_s, m.output_tokens_per_s, m.total_tokens_per_s
            ),
        ),
        (
            "goodput",
            if r.slo.ttft_s.is_some() || r.slo.tpot_s.is_some() {
                format!(
                    "{:.2} req/s ({} of requests meet the SLOs)",
                    m.goodput_requests_per_s,
                    format::pct(m.slo_attainment)
                )
            } else {
                "no SLO given (--slo-ttft-ms, --slo-tpot-ms)".into()
            },
        ),
        ("makespan", format::time(m.makespan_s)),
        (
            "iterations",
            format!(
                "{} ({:.0} tokens each on average), busy {}",
                m.iterations,
                m.mean_tokens_per_iteration,
                format::pct(m.utilization)
            ),
        ),
        (
            "preemptions",
            format!(
                "{} ({} requests recomputed)",
                m.preemptions, m.preempted_requests
            ),
        ),
        (
            "memory",
            format!(
                "{} weights + {} reserve + {} KV cache of {}",
                gb(r.memory.weight_bytes as f64),
                gb((r.memory.memory_bytes - r.memory.usable_bytes + r.memory.reserve_bytes) as f64),
                gb(r.memory.kv_capacity_bytes as f64),
                gb(r.memory.memory_bytes as f64)
            ),
        ),
        (
            "KV cache use",
            format!(
                "peak {} ({}), mean {}; {} B/token",
                gb(m.peak_kv_bytes as f64),
                format::pct(m.peak_kv_bytes as f64 / m.kv_capacity_bytes.max(1) as f64),
                gb(m.mean_kv_bytes),
                r.kv_bytes_per_token
            ),
        ),
        (
            "energy",
            format!(
                "{} per output token, mean power {}",
                format::si(m.energy_per_output_token_j, "J"),
                format::si(m.mean_power_w, "W")
            ),
        ),
        (
            "cost",
            match m.usd_per_million_output_tokens {
                Some(c) => format!("${c:.3} per million output tokens"),
                None => "give --price-per-device-hour for $ per million tokens".into(),
            },
        ),
    ];
    for (k, v) in rows {
        s.add_row([k.to_string(), v]);
    }
    outln!("{s}");
    outln!("{}", format::energy_table(&m.energy_breakdown, m.energy_j));
}
