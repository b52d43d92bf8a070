//! Prefill/decode disaggregation (DistServe, Zhong et al. OSDI 2024; Splitwise, Patel et
//! al. ISCA 2024): a pool of prefill replicas runs the prompts, the KV cache moves over a
//! link, and a pool of decode replicas generates the rest, so long prompts never stall
//! decodes.
//!
//! Model: requests go round-robin in arrival order to the prefill replicas, each a
//! continuous-batching server whose requests end with their first token (sampled on the
//! prefill replica, which is when TTFT is taken). The prompt's KV cache (`input ×` the
//! prefill model's KV bytes per token) then crosses the link in `latency + bytes /
//! bandwidth`, and the request joins a decode replica (round-robin in ready order) with its
//! cache in place. Energy adds every replica's step energy and its idle power whenever it
//! is not stepping within the overall makespan; link energy is not counted.

use serde::Serialize;
use xpusim_target::EnergyBreakdown;

use crate::metrics::{summarise, Slo};
use crate::scheduler::{
    check_fits, simulate, simulate_decode_only, RequestRecord, SchedulerConfig, SimOutcome,
};
use crate::step::StepModel;
use crate::workload::Request;
use crate::{Report, ServeError};

/// The link the KV cache crosses between the pools.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KvLink {
    pub bandwidth_bytes_per_s: f64,
    pub latency_s: f64,
}

impl KvLink {
    pub fn transfer_s(&self, bytes: u64) -> f64 {
        self.latency_s + bytes as f64 / self.bandwidth_bytes_per_s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Disaggregation {
    pub prefill_replicas: u64,
    pub decode_replicas: u64,
    pub link: KvLink,
}

/// The requests dealt round-robin to `n` replicas, with their original indices, for each
/// replica that gets any (the first `min(n, requests)`); one pass, however many replicas.
fn deal(reqs: &[Request], n: u64) -> Vec<(Vec<usize>, Vec<Request>)> {
    let used = n.min(reqs.len() as u64) as usize;
    let mut parts: Vec<(Vec<usize>, Vec<Request>)> = vec![(Vec::new(), Vec::new()); used];
    for (i, r) in reqs.iter().enumerate() {
        // i < len, so i mod n < min(n, len) = used.
        let (idx, sub) = &mut parts[(i as u64 % n) as usize];
        idx.push(i);
        sub.push(*r);
    }
    parts
}

/// Time-ordered sum of the replicas' KV usage step functions.
fn merge_kv(parts: &[&SimOutcome]) -> Vec<(f64, u64)> {
    let mut ev: Vec<(f64, usize, u64)> = parts
        .iter()
        .enumerate()
        .flat_map(|(k, o)| o.kv_samples.iter().map(move |&(t, b)| (t, k, b)))
        .collect();
    ev.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut cur = vec![0u64; parts.len()];
    let mut total = 0u64;
    ev.into_iter()
        .map(|(t, k, b)| {
            total = total - cur[k] + b;
            cur[k] = b;
            (t, total)
        })
        .collect()
}

/// Simulates `requests` on `d.prefill_replicas` replicas of `prefill` and
/// `d.decode_replicas` of `decode`.
pub fn serve_disaggregated(
    prefill: &dyn StepModel,
    decode: &dyn StepModel,
    requests: &[Request],
    cfg: &SchedulerConfig,
    d: &Disaggregation,
    slo: &Slo,
    price_per_device_hour: Option<f64>,
) -> Result<Report, ServeError> {
    if d.prefill_replicas == 0 || d.decode_replicas == 0 {
        return Err(ServeError::invalid(
            "disaggregation",
            "each pool needs at least one replica",
        ));
    }
    if !(d.link.bandwidth_bytes_per_s > 0.0 && d.link.latency_s >= 0.0) {
        return Err(ServeError::invalid(
            "KV link",
            "needs bandwidth > 0 and latency ≥ 0",
        ));
    }
    // Check every request against both pools first, so errors name its own index.
    check_fits(decode, requests, cfg)?;
    let prompts: Vec<Request> = requests
        .iter()
        .map(|r| Request {
            output_tokens: 1,
            ..*r
        })
        .collect();
    check_fits(prefill, &prompts, cfg)?;
    let n = requests.len();
    let pcfg = SchedulerConfig {
        speculation: None,
        ..*cfg
    };
    let mut records: Vec<Option<RequestRecord>> = vec![None; n];
    let mut outcomes: Vec<(SimOutcome, f64)> = Vec::new();
    let prefill_parts = deal(requests, d.prefill_replicas);
    // Replicas dealt no request idle for the whole makespan (added below in closed form).
    let idle_prefill = d.prefill_replicas - prefill_parts.len() as u64;
    for (idx, mut sub) in prefill_parts {
        sub.iter_mut().for_each(|r| r.output_tokens = 1);
        let o = simulate(prefill, &sub, &pcfg)?;
        for (i, rec) in idx.iter().zip(&o.records) {
            records[*i] = Some(RequestRecord {
                output_tokens: requests[*i].output_tokens,
                ..*rec
            });
        }
        outcomes.push((o, prefill.idle_power_w()));
    }
    // Ready at the decode pool once the prompt's KV has crossed the link.
    let kv_per_token = prefill.kv_bytes_per_token();
    let mut ready: Vec<(f64, usize)> = records
        .iter()
        .enumerate()
        .filter(|(i, _)| requests[*i].output_tokens > 1)
        .filter_map(|(i, r)| {
            r.map(|r| {
                (
                    r.first_token_s + d.link.transfer_s(requests[i].input_tokens * kv_per_token),
                    i,
                )
            })
        })
        .collect();
    ready.sort_by(|a, b| a.0.total_cmp(&b.0));
    let staged: Vec<Request> = ready
        .iter()
        .map(|&(t, i)| Request {
            arrival_s: t,
            ..requests[i]
        })
        .collect();
    let decode_parts = deal(&staged, d.decode_replicas);
    let idle_decode = d.decode_replicas - decode_parts.len() as u64;
    for (idx, sub) in decode_parts {
        let o = simulate_decode_only(decode, &sub, cfg)?;
        for (j, rec) in idx.iter().zip(&o.records) {
            let i = ready[*j].1;
            if let Some(r) = records[i].as_mut() {
                r.finish_s = rec.finish_s;
                r.preemptions += rec.preemptions;
            }
        }
        outcomes.push((o, decode.idle_power_w()));
    }
    let records: Vec<RequestRecord> = records.into_iter().flatten().collect();
    let start = requests.first().map_or(0.0, |r| r.arrival_s);
    let end = records.iter().map(|r| r.finish_s).fold(start, f64::max);
    let span = end - start;
    let parts: Vec<&SimOutcome> = outcomes.iter().map(|(o, _)| o).collect();
    // Each replica idles whenever it is not stepping, over the whole makespan; one dealt no
    // request idles throughout.
    let mut energy = EnergyBreakdown::default();
    for (o, idle_w) in &outcomes {
        energy.add_scaled(&o.energy, 1.0);
        energy.idle_j += idle_w * ((span - o.busy_s).max(0.0) - o.idle_s);
    }
    energy.idle_j += (idle_prefill as f64 * prefill.idle_power_w()
        + idle_decode as f64 * decode.idle_power_w())
        * span;
    let merged = SimOutcome {
        records,
        iterations: parts.iter().map(|o| o.iterations).sum(),
        preemptions: parts.iter().map(|o| o.preemptions).sum(),
        // Each replica idles whenever it is not stepping, over the whole makespan; one
        // dealt no request idles throughout.
        energy_j: energy.total_j(),
        energy,
        // Every replica's devices, dealt a request or not, for the whole makespan.
        node_power_w: prefill.node_power_w() * d.prefill_replicas as f64
            + decode.node_power_w() * d.decode_replicas as f64,
        busy_s: parts.iter().map(|o| o.busy_s).sum(),
        idle_s: outcomes
            .iter()
            .map(|(o, _)| (span - o.busy_s).max(0.0))
            .sum::<f64>()
            + (idle_prefill + idle_decode) as f64 * span,
        end_s: end,
        kv_capacity_bytes: prefill
            .kv_capacity_bytes()
            .saturating_mul(d.prefill_replicas)
            .saturating_add(decode.kv_capacity_bytes().saturating_mul(d.decode_replicas)),
        kv_block_bytes: decode.kv_bytes_per_token() * cfg.block_tokens,
        peak_kv_bytes: 0,
        kv_samples: merge_kv(&parts),
        prefill_tokens: parts.iter().map(|o| o.prefill_tokens).sum(),
        decode_tokens: parts.iter().map(|o| o.decode_tokens).sum(),
        sampled_tokens: parts.iter().map(|o| o.sampled_tokens).sum(),
    };
    let merged = SimOutcome {
        peak_kv_bytes: merged.kv_samples.iter().map(|s| s.1).max().unwrap_or(0),
        ..merged
    };
    let devices = prefill
        .devices()
        .saturating_mul(d.prefill_replicas)
        .saturating_add(decode.devices().saturating_mul(d.decode_replicas));
    let mut metrics = summarise(&merged, slo, devices, price_per_device_hour);
    // Busy time is summed over replicas: report the mean replica's utilisation.
    metrics.utilization /= (d.prefill_replicas + d.decode_replicas) as f64;
    Ok(Report {
        hardware: format!(
            "{} prefill × {} + {} decode × {}",
            d.prefill_replicas,
            prefill.hardware(),
            d.decode_replicas,
            decode.hardware()
        ),
        devices,
        scheduler: *cfg,
        slo: *slo,
        memory: decode.memory(),
        kv_bytes_per_token: decode.kv_bytes_per_token(),
        metrics,
        disaggregation: Some(*d),
        requests: merged.records,
    })
}
