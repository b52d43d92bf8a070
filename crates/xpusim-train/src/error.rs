use thiserror::Error;

#[derive(Debug, Error)]
pub enum TrainError {
    /// A layout the model, the batch or the target cannot take.
    #[error("training layout: {0}")]
    Layout(String),
    #[error("building the training graph: {0}")]
    Build(String),
    #[error(transparent)]
    Ir(#[from] xpusim_ir::IrError),
    #[error(transparent)]
    System(#[from] xpusim_system::SystemError),
    #[error(transparent)]
    Target(#[from] xpusim_target::TargetError),
    #[error(transparent)]
    Engine(#[from] xpusim_engine::EngineError),
    /// The layout runs but its fullest device needs more memory than it has.
    #[error("{0}")]
    DoesNotFit(String),
}
