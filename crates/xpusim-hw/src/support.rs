//! Generality as data: which operator families and number formats a device runs natively,
//! and where everything else goes.
//!
//! ```toml
//! [support]
//! families = ["matmul", "attention", "elementwise", "norm", "softmax", "embedding"]
//! dtypes = ["bf16", "fp8", "int8"]
//! host = "host-cpu"            # preset that runs what the device cannot
//! host_link_gbps = 63.0        # per-direction bandwidth of the link to the host
//! host_link_latency_us = 2.0   # one-way latency of one transfer over that link
//! ```
//!
//! A device without `[support]` runs every family and format (every preset written before
//! this table existed keeps its numbers). An empty `families` or `dtypes` list also means
//! "all". Collectives always run on the device's own interconnect. The engine
//! (`xpusim_engine::fallback`) sends an op whose family is missing to the host with its
//! activations over the link, and computes an op whose format is missing in the nearest
//! supported wider format of the same kind (float/integer), or on the host when there is
//! none.

use serde::{Deserialize, Serialize};
use xpusim_ir::DType;

/// IR op families (`OpKind::family()`) a `[support]` table may name.
pub const FAMILIES: &[&str] = &[
    "matmul",
    "conv",
    "attention",
    // FlashAttention-style backward of attention (training).
    "attention_grad",
    "recurrent",
    "scan",
    "embedding",
    "elementwise",
    "norm",
    "softmax",
    // A training loss (cross-entropy, MSE) and its gradient.
    "loss",
    "reduce",
    "data_movement",
    "collective",
    "unknown",
];

/// Native coverage of a device and its fallback host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Support {
    /// Op families run natively; empty = all.
    #[serde(default)]
    pub families: Vec<String>,
    /// Compute formats run natively; empty = all.
    #[serde(default)]
    pub dtypes: Vec<DType>,
    /// Preset name of the device that runs unsupported ops (a server CPU).
    pub host: String,
    /// Per-direction bandwidth of the device–host link, GB/s (1e9 B/s).
    pub host_link_gbps: f64,
    /// Latency of one transfer over the link, µs.
    pub host_link_latency_us: f64,
}

impl Support {
    /// Whether ops of `family` run on the device itself.
    pub fn runs_family(&self, family: &str) -> bool {
        family == "collective"
            || self.families.is_empty()
            || self.families.iter().any(|f| f == family)
    }

    /// Whether `d` is a native compute format.
    pub fn runs_dtype(&self, d: DType) -> bool {
        self.dtypes.is_empty() || self.dtypes.contains(&d)
    }

    /// The format `d` is computed in: itself when native, else the narrowest supported
    /// format at least as wide and of the same kind (float or integer); `None` = host.
    pub fn promote(&self, d: DType) -> Option<DType> {
        if self.runs_dtype(d) {
            return Some(d);
        }
        let float = |x: DType| !matches!(x, DType::Int8 | DType::Int4);
        self.dtypes
            .iter()
            .copied()
            .filter(|x| x.bits() >= d.bits() && float(*x) == float(d))
            .min_by_key(|x| x.bits())
    }

    /// Checks names and link numbers; `Err((field, message))`.
    pub(crate) fn check(&self) -> Result<(), (String, String)> {
        for (i, f) in self.families.iter().enumerate() {
            if !FAMILIES.contains(&f.as_str()) {
                return Err((
                    format!("families[{i}]"),
                    format!(
                        "unknown op family `{f}` (expected one of {})",
                        FAMILIES.join(", ")
                    ),
                ));
            }
        }
        if self.host.trim().is_empty() {
            return Err(("host".into(), "expected a host preset name".into()));
        }
        let bw = self.host_link_gbps;
        if !crate::locate::plausible_positive(bw) {
            return Err((
                "host_link_gbps".into(),
                format!("expected a positive finite number, got {bw}"),
            ));
        }
        let lat = self.host_link_latency_us;
        if !crate::locate::plausible_non_negative(lat) {
            return Err((
                "host_link_latency_us".into(),
                format!("expected a finite number ≥ 0, got {lat}"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asic() -> Support {
        Support {
            families: vec!["matmul".into(), "attention".into()],
            dtypes: vec![DType::Bf16, DType::Fp8, DType::Int8],
            host: "host-cpu".into(),
            host_link_gbps: 63.0,
            host_link_latency_us: 2.0,
        }
    }

    #[test]
    fn promotion_goes_wider_within_kind() {
        let s = asic();
        assert_eq!(s.promote(DType::Fp16), Some(DType::Bf16));
        assert_eq!(s.promote(DType::Int4), Some(DType::Int8));
        assert_eq!(s.promote(DType::Fp32), None);
        assert_eq!(s.promote(DType::Fp8), Some(DType::Fp8));
    }

    #[test]
    fn families_and_collectives() {
        let s = asic();
        assert!(s.runs_family("matmul"));
        assert!(!s.runs_family("conv"));
        assert!(s.runs_family("collective"));
        let mut bad = asic();
        bad.families.push("convolution".into());
        assert!(bad.check().unwrap_err().1.contains("unknown op family"));
    }
}
