//! Hugging Face `config.json` importer.
//!
//! [`load`] reads a `config.json` (or a folder holding one) and maps it onto the model
//! zoo's general [`TransformerConfig`]; [`build`] lowers it for a [`Workload`]. Supported
//! `model_type`s are listed in [`SUPPORTED`]; anything else is an error naming it. A
//! missing required field is a one-line error naming the file and the field.
//!
//! The mapping only renames and fills the defaults the `transformers` config classes use
//! (e.g. `num_key_value_heads` defaults to `num_attention_heads`, `tie_word_embeddings` to
//! the class default). Fields that do not change FLOPs or bytes (dropout, eps, RoPE
//! scaling factors, token ids) are accepted and ignored.

mod dense;
mod fields;
mod gpt_lineage;
mod llama_variants;
mod sparse;

use std::path::{Path, PathBuf};

use serde_json::Value;
use thiserror::Error;
use xpusim_ir::Graph;
use xpusim_models::ModelError;
pub use xpusim_models::{TransformerConfig, Workload};

use fields::Fields;

/// Every `model_type` the importer understands.
pub const SUPPORTED: &[&str] = &[
    "llama",
    "mistral",
    "mixtral",
    "qwen2",
    "qwen3",
    "qwen2_moe",
    "qwen3_moe",
    "gemma",
    "gemma2",
    "phi3",
    "gpt2",
    "gptj",
    "gpt_neox",
    "falcon",
    "opt",
    "bert",
    "roberta",
    "xlm-roberta",
    "camembert",
    "distilbert",
    "phi",
    "bloom",
    "gpt_bigcode",
    "starcoder2",
    "gpt_neo",
    "mpt",
    "granite",
    "olmo",
    "olmo2",
    "internlm2",
    "stablelm",
    "cohere",
    "t5",
    "deepseek_v2",
    "deepseek_v3",
    "mamba",
    "mamba2",
    "jamba",
];

#[derive(Debug, Error, Clone, PartialEq)]
pub enum HfError {
    #[error("{path}: {msg}")]
    Io { path: String, msg: String },
    #[error("{file}: not valid JSON: {msg}")]
    Json { file: String, msg: String },
    #[error("{file}: the top level must be a JSON object")]
    NotAnObject { file: String },
    #[error("{file}: no `model_type` field (and not a recognised original Mamba config); supported model types: {}", SUPPORTED.join(", "))]
    MissingModelType { file: String },
    #[error("{file}: unsupported model_type `{model_type}`; supported: {}", SUPPORTED.join(", "))]
    UnknownModelType { file: String, model_type: String },
    #[error("{file}: missing required field `{field}`")]
    MissingField { file: String, field: String },
    #[error("{file}: field `{field}` {msg}")]
    InvalidField {
        file: String,
        field: String,
        msg: String,
    },
    #[error("{file}: {source}")]
    Model {
        file: String,
        #[source]
        source: ModelError,
    },
}

/// An imported model: its transformer description plus metadata from the file.
#[derive(Debug, Clone, PartialEq)]
pub struct HfModel {
    /// `model_type` (for original Mamba checkpoints without one: `mamba` / `mamba2`).
    pub model_type: String,
    pub config: TransformerConfig,
    /// `torch_dtype` / `dtype` as written (e.g. `bfloat16`), if any.
    pub torch_dtype: Option<String>,
    /// `max_position_embeddings` / `n_positions`, if any.
    pub max_positions: Option<u64>,
    /// The checkpoint's storage precision as an xpusim precision name (`bf16`, `fp8`,
    /// `w4a16`, ...), from `quantization_config` or else `torch_dtype`; parse it with
    /// `xpusim_ir::Precision::parse`.
    pub precision: Option<&'static str>,
    /// The file the model was read from.
    pub file: String,
}

/// `path` itself, or `path/config.json` when `path` is a directory.
fn config_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("config.json")
    } else {
        path.to_path_buf()
    }
}

/// A display name: `_name_or_path`, else the file stem (or folder name for `config.json`).
fn model_name(f: &Fields<'_>, path: &Path) -> String {
    if let Ok(Some(n)) = f.string(&["_name_or_path"]) {
        if !n.is_empty() {
            return n.rsplit('/').next().unwrap_or(n).to_string();
        }
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    if stem == "config" {
        if let Some(dir) = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str())
        {
            return dir.to_string();
        }
    }
    stem.to_string()
}

/// Reads and maps a `config.json` (or a folder holding one).
pub fn load(path: &Path) -> Result<HfModel, HfError> {
    let file = config_path(path);
    let shown = file.display().to_string();
    let text = xpusim_ir::memfs::read_to_string(&file).map_err(|e| HfError::Io {
        path: shown.clone(),
        msg: format!("cannot read config: {e}"),
    })?;
    parse(&text, &file)
}

/// Maps the JSON text of a config; `file` names it in errors and supplies a default name.
pub fn parse(text: &str, file: &Path) -> Result<HfModel, HfError> {
    let shown = file.display().to_string();
    let v: Value = serde_json::from_str(text).map_err(|e| HfError::Json {
        file: shown.clone(),
        msg: e.to_string(),
    })?;
    let obj = v.as_object().ok_or_else(|| HfError::NotAnObject {
        file: shown.clone(),
    })?;
    let f = Fields::new(obj, &shown);
    let name = model_name(&f, file);
    let model_type = match f.string(&["model_type"])? {
        Some(t) => t.to_string(),
        // state-spaces/mamba-* checkpoints ship a bare MambaConfig without model_type.
        None if f.has("d_model") && f.has("n_layer") && f.has("ssm_cfg") => {
            sparse::original_mamba_type(&f)?
        }
        None => return Err(HfError::MissingModelType { file: shown }),
    };
    let config = match model_type.as_str() {
        "llama" | "mistral" | "qwen2" | "qwen3" | "phi3" | "gemma" | "gemma2" | "granite"
        | "olmo2" | "internlm2" => dense::llama_like(&f, &name, &model_type)?,
        "gpt2" => dense::gpt2(&f, &name)?,
        "gptj" => dense::gptj(&f, &name)?,
        "gpt_neox" => dense::gpt_neox(&f, &name)?,
        "falcon" => dense::falcon(&f, &name)?,
        "opt" => dense::opt(&f, &name)?,
        // RoBERTa, XLM-R and CamemBERT are `RobertaModel`: BERT's encoder, pooler and
        // config fields (one token type, two extra position rows in the table).
        "bert" | "roberta" | "xlm-roberta" | "camembert" => dense::bert(&f, &name)?,
        "distilbert" => dense::distilbert(&f, &name)?,
        "phi" => gpt_lineage::phi(&f, &name)?,
        "bloom" => gpt_lineage::bloom(&f, &name)?,
        "gpt_bigcode" => gpt_lineage::gpt_bigcode(&f, &name)?,
        "starcoder2" => gpt_lineage::starcoder2(&f, &name)?,
        "gpt_neo" => gpt_lineage::gpt_neo(&f, &name)?,
        "mpt" => gpt_lineage::mpt(&f, &name)?,
        "stablelm" => llama_variants::stablelm(&f, &name)?,
        "cohere" => llama_variants::cohere(&f, &name)?,
        "olmo" => llama_variants::olmo(&f, &name)?,
        "t5" => dense::t5(&f, &name)?,
        "mixtral" => sparse::mixtral(&f, &name)?,
        "qwen2_moe" | "qwen3_moe" => sparse::qwen_moe(&f, &name, &model_type)?,
        "deepseek_v2" | "deepseek_v3" => sparse::deepseek(&f, &name)?,
        "mamba" | "mamba2" => sparse::mamba(&f, &name, &model_type)?,
        "jamba" => sparse::jamba(&f, &name)?,
        other => {
            return Err(HfError::UnknownModelType {
                file: shown,
                model_type: other.to_string(),
            })
        }
    };
    config.validate().map_err(|source| HfError::Model {
        file: shown.clone(),
        source,
    })?;
    Ok(HfModel {
        model_type,
        config,
        torch_dtype: f
            .string(&["torch_dtype", "dtype"])
            .ok()
            .flatten()
            .map(str::to_string),
        max_positions: f
            .maybe(&["max_position_embeddings", "n_positions"])
            .ok()
            .flatten(),
        precision: precision_name(&f),
        file: shown,
    })
}

/// Maps `quantization_config` (FP8, AWQ/GPTQ, bitsandbytes) or `torch_dtype` to a
/// precision name; None when neither says.
fn precision_name(f: &Fields<'_>) -> Option<&'static str> {
    if let Ok(Some(q)) = f.object("quantization_config") {
        let method = q.string(&["quant_method"]).ok().flatten().unwrap_or("");
        let bits = q.opt(&["bits", "w_bit"], 0).unwrap_or(0);
        if method == "fp8" || method == "fbgemm_fp8" {
            return Some("fp8");
        }
        if q.flag(&["load_in_4bit"], false).unwrap_or(false) || bits == 4 {
            return Some("w4a16");
        }
        if q.flag(&["load_in_8bit"], false).unwrap_or(false) || bits == 8 {
            return Some("w8a16");
        }
    }
    match f.string(&["torch_dtype", "dtype"]).ok().flatten()? {
        "bfloat16" => Some("bf16"),
        "float16" => Some("fp16"),
        "float32" => Some("fp32"),
        _ => None,
    }
}

/// Loads `path` and lowers it for workload `w`.
pub fn build(path: &Path, w: &Workload) -> Result<Graph, HfError> {
    let m = load(path)?;
    m.config.build(w).map_err(|source| HfError::Model {
        file: m.file,
        source,
    })
}
