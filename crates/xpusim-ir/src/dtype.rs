use serde::{Deserialize, Serialize};
use std::fmt;

use crate::IrError;

/// Number formats. `Tf32` is stored as 32-bit and computed at TF32 rate on tensor cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    Fp32,
    Tf32,
    Bf16,
    Fp16,
    Fp8,
    Int8,
    Int4,
}

impl DType {
    pub const ALL: [DType; 7] = [
        DType::Fp32,
        DType::Tf32,
        DType::Bf16,
        DType::Fp16,
        DType::Fp8,
        DType::Int8,
        DType::Int4,
    ];

    /// Storage width in bits.
    pub fn bits(self) -> u64 {
        match self {
            DType::Fp32 | DType::Tf32 => 32,
            DType::Bf16 | DType::Fp16 => 16,
            DType::Fp8 | DType::Int8 => 8,
            DType::Int4 => 4,
        }
    }

    /// Bytes to store `elems` elements (sub-byte types pack, rounding up).
    pub fn bytes(self, elems: u64) -> u64 {
        (elems * self.bits()).div_ceil(8)
    }

    pub fn name(self) -> &'static str {
        match self {
            DType::Fp32 => "fp32",
            DType::Tf32 => "tf32",
            DType::Bf16 => "bf16",
            DType::Fp16 => "fp16",
            DType::Fp8 => "fp8",
            DType::Int8 => "int8",
            DType::Int4 => "int4",
        }
    }

    pub fn parse(s: &str) -> Result<Self, IrError> {
        let l = s.trim().to_ascii_lowercase();
        DType::ALL
            .into_iter()
            .find(|d| d.name() == l)
            .or(match l.as_str() {
                "float32" | "float" | "f32" => Some(DType::Fp32),
                "float16" | "half" | "f16" => Some(DType::Fp16),
                "bfloat16" => Some(DType::Bf16),
                "i8" | "uint8" => Some(DType::Int8),
                "i4" | "uint4" => Some(DType::Int4),
                "e4m3" | "e5m2" | "float8" => Some(DType::Fp8),
                _ => None,
            })
            .ok_or_else(|| IrError::UnknownDType(s.to_string()))
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a model is run: storage format of weights, activations and KV cache, and the format
/// the matrix engine computes in.
///
/// Weight-only quantisation (`w8a16`, `w4a16`) stores weights narrow but dequantises them to
/// the 16-bit activation format before the MMA, so it computes at the 16-bit rate and saves
/// only weight bytes (the TensorRT-LLM / AWQ weight-only kernels work this way). A `g<N>`
/// suffix (`w4a16g32`, `w4a16g128`) quantises in groups of N weights along the reduction,
/// each with its own 16-bit scale and zero point that the kernel reads with the weights:
/// 1 more bit per weight at G = 32 (gpt-fast's `WeightOnlyInt4Linear` stores
/// `scales_and_zeros` as bf16 `[K/G, N, 2]`; AWQ and GPTQ use G = 128).
///
/// `fp8-linear` is FP8 training as NVIDIA's Transformer Engine runs it (and Megatron-LM and
/// NeMo through it): only the GEMMs of the linear layers run in FP8, their inputs and weights
/// cast to 8 bits with per-tensor scales and their outputs written in 16 bits; attention,
/// norms, activations, the LM head and every stored activation stay in the 16-bit format
/// (TE documentation, "Using FP8 with Transformer Engine": "FP8 ... for the GEMMs ... other
/// operations ... in higher precision"). Plain `fp8` runs everything in FP8.
///
/// `fp8-w8a8` is the same split for inference from an FP8 checkpoint, whose linear weights
/// are *stored* in FP8 (no 16-bit master copy): NVIDIA's Model Optimizer checkpoints
/// (nvidia/Llama-3.1-405B-Instruct-FP8 model card: "Only the weights and activations of the
/// linear operators within transformers blocks are quantized") and vLLM's `fp8`
/// quantisation. Embeddings, norms, the LM head, attention and the KV cache stay 16-bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precision {
    pub weight: DType,
    pub act: DType,
    pub kv: DType,
    pub compute: DType,
    /// Weights per quantisation group of linear layers (0: per-channel or none).
    #[serde(default)]
    pub weight_group: u64,
    /// The format the linear layers' GEMMs read and compute in, where it differs from
    /// `compute` (`fp8-linear`); their outputs stay in `act`. None: `compute`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear: Option<DType>,
}

/// Bits of one group's scale and zero point (two 16-bit values).
pub const GROUP_SCALE_ZERO_BITS: u64 = 32;

impl Precision {
    pub const NAMES: [&'static str; 11] = [
        "fp32",
        "tf32",
        "bf16",
        "fp16",
        "fp8",
        "int8",
        "int4",
        "w8a16",
        "w4a16",
        "fp8-linear",
        "fp8-w8a8",
    ];

    /// One format for everything.
    pub fn uniform(d: DType) -> Self {
        let storage = if d == DType::Tf32 { DType::Fp32 } else { d };
        Precision {
            weight: storage,
            act: storage,
            kv: storage,
            compute: d,
            weight_group: 0,
            linear: None,
        }
    }

    /// Parses a precision name; `natural16` is the 16-bit format used for the activations
    /// of weight-only schemes (the chip's natural 16-bit format).
    pub fn parse(s: &str, natural16: DType) -> Result<Self, IrError> {
        let l = s.trim().to_ascii_lowercase();
        let weight_only = |w: DType, weight_group: u64| Precision {
            weight: w,
            act: natural16,
            kv: natural16,
            compute: natural16,
            weight_group,
            linear: None,
        };
        let unknown = || IrError::UnknownPrecision(s.to_string());
        let (scheme, group) = match l.split_once('g') {
            Some((sch, g)) if sch.starts_with('w') => {
                let g: u64 = g.parse().map_err(|_| unknown())?;
                if g == 0 {
                    return Err(unknown());
                }
                (sch, g)
            }
            _ => (l.as_str(), 0),
        };
        match scheme {
            "fp8-linear" => Ok(Precision {
                linear: Some(DType::Fp8),
                ..Precision::uniform(natural16)
            }),
            "fp8-w8a8" => Ok(Precision {
                weight: DType::Fp8,
                linear: Some(DType::Fp8),
                ..Precision::uniform(natural16)
            }),
            "w8a16" => Ok(weight_only(DType::Int8, group)),
            "w4a16" => Ok(weight_only(DType::Int4, group)),
            _ => DType::parse(&l)
                .map(Precision::uniform)
                .map_err(|_| unknown()),
        }
    }

    /// Short name, inverse of [`Precision::parse`] for the named schemes.
    pub fn name(&self) -> String {
        if let Some(l) = self.linear {
            if self.weight == l {
                return format!("{}-w{}a{}", l.name(), l.bits(), l.bits());
            }
            return format!("{}-linear", l.name());
        }
        if self.weight != self.act && self.compute == self.act {
            let g = if self.weight_group > 0 {
                format!("g{}", self.weight_group)
            } else {
                String::new()
            };
            format!("w{}a{}{g}", self.weight.bits(), self.act.bits())
        } else {
            self.compute.name().to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_all_named_precisions() {
        for n in Precision::NAMES {
            let p = Precision::parse(n, DType::Bf16).unwrap();
            assert_eq!(p.name(), n);
        }
        assert!(Precision::parse("fp12", DType::Bf16).is_err());
        let g = Precision::parse("w4a16g32", DType::Bf16).unwrap();
        assert_eq!(
            (g.weight, g.weight_group, g.name().as_str()),
            (DType::Int4, 32, "w4a16g32")
        );
        assert!(Precision::parse("w4a16g0", DType::Bf16).is_err());
        assert!(Precision::parse("w4a16gx", DType::Bf16).is_err());
    }

    #[test]
    fn fp8_linear_is_fp8_gemms_in_16_bit_everything_else() {
        let p = Precision::parse("fp8-linear", DType::Bf16).unwrap();
        assert_eq!(p.linear, Some(DType::Fp8));
        assert_eq!(
            (p.act, p.weight, p.kv, p.compute),
            (DType::Bf16, DType::Bf16, DType::Bf16, DType::Bf16)
        );
        let op = crate::Op::linear("fc", 16, 64, 32, "w", p).unwrap();
        assert_eq!(op.compute_dtype, DType::Fp8);
        let dt = |r: crate::Role| op.operands.iter().find(|o| o.role == r).unwrap().dtype;
        assert_eq!(dt(crate::Role::Input), DType::Fp8);
        assert_eq!(dt(crate::Role::Weight), DType::Fp8);
        assert_eq!(dt(crate::Role::Output), DType::Bf16);
        assert_eq!(Precision::parse("fp8", DType::Bf16).unwrap().linear, None);
    }

    #[test]
    fn int4_packs_two_per_byte() {
        assert_eq!(DType::Int4.bytes(3), 2);
        assert_eq!(DType::Bf16.bytes(3), 6);
    }
}
