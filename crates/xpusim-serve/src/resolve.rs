//! Model names and config files → the decoder description the step models build from.

use std::path::Path;

use xpusim_ir::Phase;
use xpusim_models::TransformerConfig;

use crate::ServeError;

/// A built-in decoder name (or alias), or a path to a Hugging Face `config.json` (or a folder
/// holding one). Errors name the model and say what was expected.
pub fn load_decoder(name_or_path: &str) -> Result<TransformerConfig, ServeError> {
    let err = |msg: String| ServeError::Model {
        model: name_or_path.to_string(),
        msg,
    };
    let cfg = match xpusim_models::find(name_or_path) {
        Some(info) => xpusim_models::zoo::transformer_config(info.name)
            .ok_or_else(|| err(format!("is a {} model, not a decoder", info.era)))?,
        None if Path::new(name_or_path).exists() => {
            xpusim_hf::load(Path::new(name_or_path))
                .map_err(|e| err(e.to_string()))?
                .config
        }
        None => {
            let s = xpusim_models::suggestions(name_or_path);
            return Err(err(if s.is_empty() {
                "is neither a built-in model nor a config.json path".into()
            } else {
                format!(
                    "is neither a built-in model nor a config.json path; did you mean {}?",
                    s.join(", ")
                )
            }));
        }
    };
    if !cfg.phases().contains(&Phase::Decode) {
        return Err(err(
            "is not a decoder; serving needs prefill and decode".into()
        ));
    }
    Ok(cfg)
}
