//! Phase `serve` rows: a server's offline throughput, priced by the serving simulator.
//!
//! Such a row is a throughput benchmark as `trtllm-bench throughput`, vLLM's
//! `benchmark_throughput.py` or SGLang's offline bench run it: `batch` requests of `seq_in`
//! prompt and `seq_out` output tokens all queued at the start, a continuous-batching server
//! working through them. The prediction runs the same requests through
//! [`xpusim_serve::simulate`] on the row's target (one device, or a tensor-parallel group of
//! the row's system) under the server settings of the row's `scheduler` column, a list of
//! `key=value`:
//! - `max_batch`: running sequences at most (vLLM `max_num_seqs`, TensorRT-LLM
//!   `max_batch_size`);
//! - `max_tokens`: tokens per iteration at most (`max_num_batched_tokens`, `max_num_tokens`);
//! - `admission`: `on-demand` (vLLM's paged cache with preemption) or `reserve` (TensorRT-LLM's
//!   `GUARANTEED_NO_EVICT`), [`xpusim_serve::Admission`];
//! - `chunked`: `1` (prompts split over iterations) or `0` (each prompt whole);
//! - `kv_free_fraction`: the KV cache as this share of the memory the weights and activations
//!   leave (TensorRT-LLM), else `memory_utilization`: the share of all memory the server
//!   may use (vLLM, 0.9 by default);
//! - `block`: tokens per KV block (16 by default).
//!
//! Unset keys take vLLM's defaults. Metrics: `tokens_per_s` (output tokens per second, the
//! figure these benchmarks headline), `samples_per_s` (requests per second), and the mean
//! `ttft_ms` and `tpot_ms`.

use xpusim_hw::{DeviceSpec, System};
use xpusim_ir::Precision;
use xpusim_serve::{
    scheduler::{VLLM_BLOCK_TOKENS, VLLM_MAX_BATCHED_TOKENS, VLLM_MAX_SEQS},
    Admission, SchedulerConfig, Slo, StepOptions, TargetStepModel, TokenDist,
    GPU_MEMORY_UTILIZATION,
};
use xpusim_target::{Parallelism, Target};

use crate::data::Row;

/// The server settings of a `serve` row (its `scheduler` column).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServeSetup {
    pub max_batch: u64,
    pub max_tokens: u64,
    pub admission: Admission,
    pub chunked: bool,
    pub memory_utilization: f64,
    pub kv_free_fraction: Option<f64>,
    pub block_tokens: u64,
}

impl Default for ServeSetup {
    fn default() -> Self {
        ServeSetup {
            max_batch: VLLM_MAX_SEQS,
            max_tokens: VLLM_MAX_BATCHED_TOKENS,
            admission: Admission::OnDemand,
            chunked: true,
            memory_utilization: GPU_MEMORY_UTILIZATION,
            kv_free_fraction: None,
            block_tokens: VLLM_BLOCK_TOKENS,
        }
    }
}

impl ServeSetup {
    /// Parses `key=value,...`; an unknown or repeated key, or a value that is not one, is an
    /// error naming it.
    pub fn parse(s: &str) -> Result<ServeSetup, String> {
        let mut out = ServeSetup::default();
        let mut seen: Vec<&str> = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let Some((k, v)) = item.split_once('=').map(|(k, v)| (k.trim(), v.trim())) else {
                return Err(format!("`{item}`: expected key=value"));
            };
            if seen.contains(&k) {
                return Err(format!("`{k}` given twice"));
            }
            seen.push(k);
            let count = || {
                v.parse::<u64>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("`{k}`: expected a whole number above 0, got `{v}`"))
            };
            let share = || {
                v.parse::<f64>()
                    .ok()
                    .filter(|f| *f > 0.0 && *f <= 1.0)
                    .ok_or_else(|| format!("`{k}`: expected a fraction in (0, 1], got `{v}`"))
            };
            match k {
                "max_batch" => out.max_batch = count()?,
                "max_tokens" => out.max_tokens = count()?,
                "block" => out.block_tokens = count()?,
                "admission" => out.admission = Admission::parse(v).map_err(|e| e.to_string())?,
                "chunked" => {
                    out.chunked = match v {
                        "1" | "yes" => true,
                        "0" | "no" => false,
                        _ => return Err(format!("`chunked`: expected 1 or 0, got `{v}`")),
                    }
                }
                "memory_utilization" => out.memory_utilization = share()?,
                "kv_free_fraction" => out.kv_free_fraction = Some(share()?),
                other => {
                    return Err(format!(
                        "unknown key `{other}` (expected max_batch, max_tokens, admission, \
                         chunked, memory_utilization, kv_free_fraction or block)"
                    ))
                }
            }
        }
        if seen.contains(&"memory_utilization") && out.kv_free_fraction.is_some() {
            return Err(
                "give memory_utilization (vLLM) or kv_free_fraction (TensorRT-LLM), not both"
                    .into(),
            );
        }
        Ok(out)
    }
}

/// The metric of a `serve` row: `replicas` independent servers, each on `layout`'s devices.
pub fn metric(
    row: &Row,
    dev: &DeviceSpec,
    sys: Option<&System>,
    layout: &Parallelism,
    p: Precision,
    replicas: f64,
) -> Result<f64, String> {
    if layout.pp > 1 || layout.ep > 1 {
        return Err("a `serve` row runs tensor parallelism only (tp=N)".into());
    }
    if row.seq_in == 0 || row.seq_out == 0 {
        return Err("phase `serve` needs seq_in and seq_out ≥ 1".into());
    }
    let setup = row.serve.unwrap_or_default();
    let cfg = xpusim_serve::load_decoder(&row.workload).map_err(|e| e.to_string())?;
    let mut target = match sys {
        Some(s) => Target::system(s.clone()),
        None => Target::device(dev.clone()),
    };
    target.runtime = row.runtime.clone();
    let mut opts = StepOptions::new(p, setup.max_tokens);
    opts.memory_utilization = setup.memory_utilization;
    opts.kv_free_fraction = setup.kv_free_fraction;
    let model =
        TargetStepModel::new(cfg, target, layout.tp.max(1), opts).map_err(|e| e.to_string())?;
    let requests = xpusim_serve::poisson(
        f64::INFINITY,
        row.batch as usize,
        TokenDist::Fixed(row.seq_in),
        TokenDist::Fixed(row.seq_out),
        0,
    )
    .map_err(|e| e.to_string())?;
    let sched = SchedulerConfig {
        max_batched_tokens: setup.max_tokens,
        max_seqs: setup.max_batch,
        max_chunk: setup.max_tokens,
        block_tokens: setup.block_tokens,
        speculation: None,
        admission: setup.admission,
        chunked_prefill: setup.chunked,
    };
    let r = xpusim_serve::serve(&model, &requests, &sched, &Slo::default(), None)
        .map_err(|e| e.to_string())?;
    let m = &r.metrics;
    match row.metric.as_str() {
        "tokens_per_s" => Ok(replicas * m.output_tokens_per_s),
        "samples_per_s" => Ok(replicas * m.requests_per_s),
        "ttft_ms" => Ok(m.ttft_s.mean * 1e3),
        "tpot_ms" => Ok(m.tpot_s.mean * 1e3),
        other => Err(format!("metric `{other}` does not apply to phase `serve`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_parses_every_key_and_names_bad_ones() {
        let s = ServeSetup::parse(
            "max_batch=512, max_tokens=4608,admission=reserve,chunked=0,kv_free_fraction=0.95,block=32",
        )
        .unwrap();
        assert_eq!(
            (
                s.max_batch,
                s.max_tokens,
                s.admission,
                s.chunked,
                s.block_tokens
            ),
            (512, 4608, Admission::Reserve, false, 32)
        );
        assert_eq!(s.kv_free_fraction, Some(0.95));
        assert_eq!(ServeSetup::parse("").unwrap(), ServeSetup::default());
        for (bad, says) in [
            ("max_batch=0", "max_batch"),
            ("max_batch=1,max_batch=2", "twice"),
            ("speed=9", "unknown key `speed`"),
            ("chunked=maybe", "chunked"),
            ("admission=lifo", "lifo"),
            ("kv_free_fraction=1.5", "kv_free_fraction"),
            ("memory_utilization=0.9,kv_free_fraction=0.9", "not both"),
            ("max_tokens", "key=value"),
        ] {
            let e = ServeSetup::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
