//! Model names and config files → the decoder description the step models build from.

use xpusim_models::TransformerConfig;

use crate::ServeError;

/// A built-in decoder name (or alias), or a path to a Hugging Face `config.json` (or a folder
/// holding one), through the one resolver (`xpusim-workload`).
pub fn load_decoder(name_or_path: &str) -> Result<TransformerConfig, ServeError> {
    xpusim_workload::load_decoder(name_or_path).map_err(|e| ServeError::Model {
        model: name_or_path.to_string(),
        msg: match e {
            xpusim_workload::WorkloadError::Invalid { msg, .. } => msg,
            other => other.to_string(),
        },
    })
}
