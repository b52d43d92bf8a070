use thiserror::Error;

/// Errors of the system layer. Each names the file, field or quantity at fault.
#[derive(Debug, Error)]
pub enum SystemError {
    #[error(transparent)]
    Hw(#[from] xpusim_hw::HwError),
    /// The parallel layout asks for something the system or the model cannot provide.
    #[error("parallelism {layout}: {msg}")]
    Layout { layout: String, msg: String },
    #[error(transparent)]
    Ir(#[from] xpusim_ir::IrError),
}
