use thiserror::Error;

/// Errors of evaluating a model on a target. Each names the hardware, op or layout at
/// fault (the wrapped errors name files, lines and fields).
#[derive(Debug, Error)]
pub enum TargetError {
    #[error(transparent)]
    Hw(#[from] xpusim_hw::HwError),
    #[error(transparent)]
    Engine(#[from] xpusim_engine::EngineError),
    #[error(transparent)]
    System(#[from] xpusim_system::SystemError),
    #[error(transparent)]
    Ir(#[from] xpusim_ir::IrError),
    #[error("{0}")]
    Target(String),
    /// One device's share of the model exceeds its memory.
    #[error(
        "model does not fit: needs {:.2} GB per device but {} has {:.2} GB ({detail})",
        *needed_bytes as f64 / 1e9,
        device,
        *capacity_bytes as f64 / 1e9
    )]
    DoesNotFit {
        needed_bytes: u64,
        capacity_bytes: u64,
        device: String,
        detail: String,
    },
}
