//! Reproduction of AttAcc's headline (Park et al., "AttAcc! Unleashing the Power of PIM for
//! Batched Transformer-based Generative Model Inference", ASPLOS 2024): GPT-3 175B decode on
//! DGX-A100 (HBM3) + AttAcc against the GPU-only system with the same memory capacity.
//!
//! The paper's abstract reports improvements of **up to 2.81× in throughput and 2.67× in
//! energy efficiency** for the 175B model. Per-batch values are in the paper's figures,
//! which we could not access; only the headline maxima are quoted. The evaluation setup
//! follows the authors' simulator (github.com/scale-snu/attacc_simulator README and
//! main.py defaults): input length 2048, 128 generated tokens, FP16.

pub mod paper_energy;

use serde::Serialize;
use xpusim_hw::{find_system, System};
use xpusim_ir::{Graph, Phase, Precision};
use xpusim_models::transformer::Positions;
use xpusim_models::{zoo, TransformerConfig, Workload};
use xpusim_target::{evaluate, Layout, ModelCost, Parallelism, Target};

use paper_energy::PaperEnergy;

/// What went wrong in the reproduction (a preset, a model or an evaluation).
#[derive(Debug, thiserror::Error)]
#[error("AttAcc reproduction: {0}")]
pub struct AttaccError(pub String);

fn err(e: impl std::fmt::Display) -> AttaccError {
    AttaccError(e.to_string())
}

/// One decode step of `g` on `sys`, tensor parallel over all its devices (AttAcc's setup),
/// with the system's own PIM placement.
pub fn step(g: &Graph, sys: &System) -> Result<ModelCost, AttaccError> {
    let mut t = Target::system(sys.clone());
    t.layout = Layout::Fixed(Parallelism::tp(sys.spec.count));
    evaluate(g, &t).map_err(err)
}

fn per_token(c: &ModelCost) -> f64 {
    c.energy_j / (c.batch * c.tokens_per_sample).max(1) as f64
}

/// Abstract of the paper: "up to 2.81×" throughput.
pub const PAPER_MAX_THROUGHPUT_RATIO: f64 = 2.81;
/// Abstract of the paper: "up to 2.67×" energy efficiency.
pub const PAPER_MAX_ENERGY_RATIO: f64 = 2.67;
/// attacc_simulator main.py default `--lin`.
pub const INPUT_LEN: u64 = 2048;
/// attacc_simulator main.py default `--lout`.
pub const OUTPUT_LEN: u64 = 128;
/// The GPU-only system with the same memory capacity (see its preset for the reading).
pub const GPU_ONLY_SYSTEM: &str = "dgx-a100-hbm3-2x";
/// Batch sizes swept (the CLI adds the largest batch that fits, [`default_batches`]).
pub const BATCHES: &[u64] = &[1, 4, 16, 32, 64, 128, 256];

/// One batch size: both systems and their ratios.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub batch: u64,
    pub pim: ModelCost,
    pub gpu: ModelCost,
    /// Tokens/s and energy per token (xpusim's accounting) of both systems.
    pub pim_tok_s: f64,
    pub gpu_tok_s: f64,
    pub pim_j_per_tok: f64,
    pub gpu_j_per_tok: f64,
    /// Tokens/s of DGX+AttAcc over the GPU-only system.
    pub throughput_ratio: f64,
    /// Energy per token of the GPU-only system over DGX+AttAcc.
    pub energy_ratio: f64,
    /// The same without the hosts' idle power (AttAcc's simulator counts dynamic energy
    /// only: src/devices.py sums per-byte and per-FLOP energies).
    pub energy_ratio_dynamic: f64,
    /// Energy per token under AttAcc's own accounting ([`crate::paper_energy`]: the
    /// simulator's per-access energies, dynamic only): xPU + PIM, GPU-only, and the ratio.
    pub pim_j_per_tok_paper: f64,
    pub gpu_j_per_tok_paper: f64,
    pub energy_ratio_paper: f64,
    /// The paper's capacity rule (attacc_simulator src/system.py: `required_cap` =
    /// `get_required_mem_capacity(bs, lin, lout)`, weights + KV cache of `lin + lout − 1`
    /// tokens per request, against `cap` = GPU + AttAcc aggregate capacity): the weights
    /// and the batch's KV cache fit in each system's total memory.
    pub fits: bool,
    /// xpusim's stricter placement check: with attention on PIM the KV cache (and the
    /// FFN share moved there) must fit in the PIM stacks, the rest on the GPUs.
    pub fits_placed: bool,
}

/// Runs the sweep: every decode step of a request is represented by the step at the mean
/// context `INPUT_LEN + OUTPUT_LEN / 2` (attention cost is linear in the context, the rest
/// is independent of it, so the mean step's time and energy equal the average step's).
pub fn sweep(pim_system: &str, batches: &[u64]) -> Result<Vec<Row>, AttaccError> {
    sweep_system(&find_system(pim_system).map_err(err)?, batches)
}

/// [`sweep`] for a resolved (possibly modified, e.g. ablated) xPU + PIM system.
pub fn sweep_system(pim_sys: &System, batches: &[u64]) -> Result<Vec<Row>, AttaccError> {
    let gpu_sys = find_system(GPU_ONLY_SYSTEM).map_err(err)?;
    let cfg = gpt3_config()?;
    let table = PaperEnergy::builtin()?;
    let mut rows = Vec::new();
    for &batch in batches {
        let w = |context| Workload {
            phase: Phase::Decode,
            batch,
            seq_len: 1,
            context,
            precision: Precision::uniform(xpusim_ir::DType::Fp16),
            image_size: None,
        };
        let g = cfg.build(&w(INPUT_LEN + OUTPUT_LEN / 2)).map_err(err)?;
        let pim = step(&g, pim_sys)?;
        let gpu = step(&g, &gpu_sys)?;
        let pim_paper = paper_energy::energy_per_token_j(&g, pim_sys, &pim, &table)?;
        let gpu_paper = paper_energy::energy_per_token_j(&g, &gpu_sys, &gpu, &table)?;
        let g_end = cfg.build(&w(INPUT_LEN + OUTPUT_LEN - 1)).map_err(err)?;
        let fits_placed =
            step(&g_end, pim_sys)?.fits_in_memory && step(&g_end, &gpu_sys)?.fits_in_memory;
        let totals = g_end.totals();
        let fits = totals.weight_bytes + totals.kv_cache_bytes
            <= total_capacity_bytes(pim_sys).min(total_capacity_bytes(&gpu_sys));
        rows.push(Row {
            batch,
            throughput_ratio: pim.tokens_per_s / gpu.tokens_per_s,
            energy_ratio: per_token(&gpu) / per_token(&pim),
            energy_ratio_dynamic: (gpu.energy_j - gpu.energy_breakdown.idle_j)
                / (pim.energy_j - pim.energy_breakdown.idle_j),
            pim_tok_s: pim.tokens_per_s,
            gpu_tok_s: gpu.tokens_per_s,
            pim_j_per_tok: per_token(&pim),
            gpu_j_per_tok: per_token(&gpu),
            pim_j_per_tok_paper: pim_paper,
            gpu_j_per_tok_paper: gpu_paper,
            energy_ratio_paper: gpu_paper / pim_paper,
            pim,
            gpu,
            fits,
            fits_placed,
        });
    }
    Ok(rows)
}

/// All memory of a system: GPUs plus PIM (the simulator's `cap`, src/system.py).
pub fn total_capacity_bytes(sys: &System) -> u64 {
    let per_device = sys.device.offchip().capacity_bytes
        + sys
            .pim
            .as_ref()
            .map_or(0, |p| p.capacity_per_device_bytes());
    per_device * sys.spec.count
}

/// The largest batch whose weights and KV cache (`INPUT_LEN + OUTPUT_LEN − 1` tokens per
/// request) fit in both systems' total memory under the paper's capacity rule (see
/// [`Row::fits`]); 0 when not even the weights fit. The "up to" of the headline is a
/// maximum over batches, so the sweep includes this batch.
pub fn max_batch_that_fits(pim_sys: &System) -> Result<u64, AttaccError> {
    let gpu_sys = find_system(GPU_ONLY_SYSTEM).map_err(err)?;
    let cfg = gpt3_config()?;
    let w = |batch| Workload {
        phase: Phase::Decode,
        batch,
        seq_len: 1,
        context: INPUT_LEN + OUTPUT_LEN - 1,
        precision: Precision::uniform(xpusim_ir::DType::Fp16),
        image_size: None,
    };
    // Weights are independent of the batch, the KV cache linear in it.
    let one = cfg.build(&w(1)).map_err(err)?.totals();
    let two = cfg.build(&w(2)).map_err(err)?.totals();
    let kv_per_request = two.kv_cache_bytes - one.kv_cache_bytes;
    let cap = total_capacity_bytes(pim_sys).min(total_capacity_bytes(&gpu_sys));
    Ok(cap
        .checked_sub(one.weight_bytes)
        .map(|free| free / kv_per_request.max(1))
        .unwrap_or(0))
}

/// The default sweep: [`BATCHES`] plus the largest batch that fits.
pub fn default_batches(pim_sys: &System) -> Result<Vec<u64>, AttaccError> {
    let mut b = BATCHES.to_vec();
    let max = max_batch_that_fits(pim_sys)?;
    if max > 0 {
        b.push(max);
    }
    b.sort_unstable();
    b.dedup();
    Ok(b)
}

fn gpt3_config() -> Result<TransformerConfig, AttaccError> {
    let mut cfg = zoo::transformer_config("gpt3-175b")
        .ok_or_else(|| AttaccError("the zoo has no gpt3-175b".into()))?;
    // AttAcc runs GPT-3 past its 2048-position window (2048 in + 128 out); the learned
    // position table only grows by 128 rows (6 MB of 350 GB), so we widen it to match.
    cfg.positions = Positions::Learned {
        max_positions: INPUT_LEN + OUTPUT_LEN,
    };
    Ok(cfg)
}
