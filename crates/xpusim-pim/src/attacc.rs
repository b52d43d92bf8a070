//! Reproduction of AttAcc's headline (Park et al., "AttAcc! Unleashing the Power of PIM for
//! Batched Transformer-based Generative Model Inference", ASPLOS 2024): GPT-3 175B decode on
//! DGX-A100 (HBM3) + AttAcc against the GPU-only system with the same memory capacity.
//!
//! The paper's abstract reports improvements of **up to 2.81× in throughput and 2.67× in
//! energy efficiency** for the 175B model. Per-batch values are in the paper's figures,
//! which we could not access; only the headline maxima are quoted. The evaluation setup
//! follows the authors' simulator (github.com/scale-snu/attacc_simulator README and
//! main.py defaults): input length 2048, 128 generated tokens, FP16.

use serde::Serialize;
use xpusim_ir::{Phase, Precision};
use xpusim_models::transformer::Positions;
use xpusim_models::{zoo, Workload};

use crate::{evaluate, find_system, HeteroCost, HeteroSystem, Objective, PimError};

/// Abstract of the paper: "up to 2.81×" throughput.
pub const PAPER_MAX_THROUGHPUT_RATIO: f64 = 2.81;
/// Abstract of the paper: "up to 2.67×" energy efficiency.
pub const PAPER_MAX_ENERGY_RATIO: f64 = 2.67;
/// attacc_simulator main.py default `--lin`.
pub const INPUT_LEN: u64 = 2048;
/// attacc_simulator main.py default `--lout`.
pub const OUTPUT_LEN: u64 = 128;
/// Batch sizes swept.
pub const BATCHES: &[u64] = &[1, 4, 16, 32, 64, 128, 256];

/// One batch size: both systems and their ratios.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub batch: u64,
    pub pim: HeteroCost,
    pub gpu: HeteroCost,
    /// Tokens/s of DGX+AttAcc over the GPU-only system.
    pub throughput_ratio: f64,
    /// Energy per token of the GPU-only system over DGX+AttAcc.
    pub energy_ratio: f64,
    /// The same without the hosts' idle power (AttAcc's simulator counts dynamic energy
    /// only: src/devices.py sums per-byte and per-FLOP energies).
    pub energy_ratio_dynamic: f64,
    /// Both systems hold the KV cache of `INPUT_LEN + OUTPUT_LEN` tokens for the batch.
    pub fits: bool,
}

/// Runs the sweep: every decode step of a request is represented by the step at the mean
/// context `INPUT_LEN + OUTPUT_LEN / 2` (attention cost is linear in the context, the rest
/// is independent of it, so the mean step's time and energy equal the average step's).
pub fn sweep(pim_system: &str, batches: &[u64]) -> Result<Vec<Row>, PimError> {
    sweep_system(&find_system(pim_system)?, batches)
}

/// [`sweep`] for a resolved (possibly modified, e.g. ablated) xPU + PIM system.
pub fn sweep_system(pim_sys: &HeteroSystem, batches: &[u64]) -> Result<Vec<Row>, PimError> {
    let gpu_sys = find_system("dgx-a100-hbm3-2x")?;
    let mut cfg = zoo::transformer_config("gpt3-175b").ok_or_else(|| PimError::Unknown {
        what: "model",
        name: "gpt3-175b".into(),
        suggestions: vec![],
    })?;
    // AttAcc runs GPT-3 past its 2048-position window (2048 in + 128 out); the learned
    // position table only grows by 128 rows (6 MB of 350 GB), so we widen it to match.
    cfg.positions = Positions::Learned {
        max_positions: INPUT_LEN + OUTPUT_LEN,
    };
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
        let g = cfg.build(&w(INPUT_LEN + OUTPUT_LEN / 2))?;
        let pim = evaluate(&g, pim_sys, pim_sys.spec.placement, Objective::Time)?;
        let gpu = evaluate(&g, &gpu_sys, gpu_sys.spec.placement, Objective::Time)?;
        let g_end = cfg.build(&w(INPUT_LEN + OUTPUT_LEN - 1))?;
        let fits = evaluate(&g_end, pim_sys, pim_sys.spec.placement, Objective::Time)?.fits
            && evaluate(&g_end, &gpu_sys, gpu_sys.spec.placement, Objective::Time)?.fits;
        rows.push(Row {
            batch,
            throughput_ratio: pim.tokens_per_s / gpu.tokens_per_s,
            energy_ratio: gpu.energy_per_token_j / pim.energy_per_token_j,
            energy_ratio_dynamic: (gpu.energy_j - gpu.idle_energy_j)
                / (pim.energy_j - pim.idle_energy_j),
            pim,
            gpu,
            fits,
        });
    }
    Ok(rows)
}
