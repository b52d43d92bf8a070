use thiserror::Error;

/// What went wrong turning a name or file into a graph; each names the model (file, and
/// line or field where the frontend knows them) and what was expected.
#[derive(Debug, Error)]
pub enum WorkloadError {
    #[error("model `{model}`: {msg}")]
    Invalid { model: String, msg: String },
    #[error(transparent)]
    Model(#[from] xpusim_models::ModelError),
    /// Boxed: the importer's error carries a node's context and is large.
    #[error(transparent)]
    Onnx(Box<xpusim_onnx::OnnxError>),
    #[error(transparent)]
    Hf(#[from] xpusim_hf::HfError),
    #[error("SCALE-Sim topology `{model}`: {msg}")]
    Topology { model: String, msg: String },
    #[error(transparent)]
    Ir(#[from] xpusim_ir::IrError),
    #[error(transparent)]
    Varlen(#[from] xpusim_ir::VarlenError),
}

impl From<xpusim_onnx::OnnxError> for WorkloadError {
    fn from(e: xpusim_onnx::OnnxError) -> Self {
        WorkloadError::Onnx(Box::new(e))
    }
}
