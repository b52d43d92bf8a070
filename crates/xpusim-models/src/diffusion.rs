//! A Stable-Diffusion-1.5 UNet denoising step, built from IR ops (the era suite's
//! diffusion workload).
//!
//! Architecture from Rombach et al., "High-Resolution Image Synthesis with Latent
//! Diffusion Models" (CVPR 2022) and the released v1 inference config
//! (`configs/stable-diffusion/v1-inference.yaml`): a 4×64×64 latent (512×512 image, /8
//! VAE), model channels 320 with multipliers [1, 2, 4, 4], 2 ResBlocks per level, a
//! spatial transformer (self-attention, cross-attention over 77 CLIP ViT-L/14 tokens of
//! width 768, GEGLU feed-forward) after each ResBlock at the three finer levels, 8 heads,
//! 1280-wide time embedding. The published UNet has 859.5 M parameters; the builder's
//! declared weights reproduce that count (tested). Classifier-free guidance runs the
//! conditional and unconditional passes together, so one image is a batch of 2 latents.

use xpusim_ir::{
    AttentionSpec, ConvSpec, Graph, IrError, LossKind, NormKind, Op, Phase, Precision, Role,
};

/// Model channels of level 0 (`model_channels` in the v1 config).
const BASE_CHANNELS: u64 = 320;
/// Channel multiplier per level (`channel_mult`).
const CHANNEL_MULT: [u64; 4] = [1, 2, 4, 4];
/// ResBlocks per level on the way down (`num_res_blocks`); the way up has one more.
const RES_BLOCKS: u64 = 2;
/// Levels with a spatial transformer (`attention_resolutions` 4, 2, 1 → levels 0, 1, 2).
const ATTN_LEVELS: u64 = 3;
const HEADS: u64 = 8;
/// CLIP ViT-L/14 text encoder: 77 tokens of width 768 (`context_dim`).
const CONTEXT_TOKENS: u64 = 77;
const CONTEXT_DIM: u64 = 768;
/// Latent channels and side for a 512×512 image through the /8 VAE.
const LATENT_CHANNELS: u64 = 4;
pub const LATENT_SIDE: u64 = 64;
/// GEGLU feed-forward expands to 4× width (two halves of 4× each).
const FF_MULT: u64 = 4;
/// Published parameter count of the SD-1.5 UNet.
pub const PUBLISHED_PARAMS: u64 = 859_520_964;
/// Model name in reports.
pub const NAME: &str = "sd-1.5-unet";

struct B {
    g: Graph,
    p: Precision,
    /// Latents per pass (2 per image with classifier-free guidance).
    n: u64,
}

impl B {
    fn conv(
        &mut self,
        name: &str,
        c: u64,
        side: u64,
        k: u64,
        r: u64,
        stride: u64,
    ) -> Result<u64, IrError> {
        let spec = ConvSpec {
            n: self.n,
            c,
            h: side,
            w: side,
            k,
            r,
            s: r,
            stride: (stride, stride),
            pad: (r / 2, r / 2, r / 2, r / 2),
            dilation: (1, 1),
            groups: 1,
            transposed: false,
        };
        let w = format!("{name}.weight");
        self.g.push(Op::conv(name, spec, &w, self.p)?);
        self.g.weight(&w, &[k, c, r, r], self.p.weight, 1)?;
        self.g
            .weight(&format!("{name}.bias"), &[k], self.p.weight, 1)?;
        Ok(spec.output_hw().0)
    }

    fn linear(
        &mut self,
        name: &str,
        tokens: u64,
        k: u64,
        n: u64,
        bias: bool,
    ) -> Result<(), IrError> {
        let w = format!("{name}.weight");
        self.g.push(Op::linear(name, tokens, k, n, &w, self.p)?);
        self.g.weight(&w, &[k, n], self.p.weight, 1)?;
        if bias {
            self.g
                .weight(&format!("{name}.bias"), &[n], self.p.weight, 1)?;
        }
        Ok(())
    }

    /// A norm reading its scale (`{name}.gamma`, declared as the op names it) and shift.
    fn norm(&mut self, name: &str, kind: NormKind, rows: u64, cols: u64) -> Result<(), IrError> {
        self.g.push(Op::norm(name, kind, rows, cols, self.p.act)?);
        self.g
            .weight(&format!("{name}.gamma"), &[cols], self.p.weight, 1)?;
        self.g
            .weight(&format!("{name}.beta"), &[cols], self.p.weight, 1)
    }

    fn eltwise(
        &mut self,
        name: &str,
        f: &str,
        elems: u64,
        inputs: u64,
        flops: u64,
    ) -> Result<(), IrError> {
        self.g
            .push(Op::elementwise(name, f, elems, inputs, flops, self.p.act)?);
        Ok(())
    }

    fn attention(&mut self, name: &str, q_len: u64, kv_len: u64, ch: u64) -> Result<(), IrError> {
        let spec = AttentionSpec {
            batch: self.n,
            heads: HEADS,
            kv_heads: HEADS,
            q_len,
            kv_len,
            head_dim: ch / HEADS,
            v_head_dim: ch / HEADS,
            causal: false,
        };
        self.g.push(Op::attention(name, spec, Role::Input, self.p)?);
        Ok(())
    }

    /// GroupNorm → SiLU → conv3×3 → + time embedding → GroupNorm → SiLU → conv3×3, with a
    /// 1×1 skip conv when the width changes.
    fn res_block(&mut self, pre: &str, c_in: u64, c_out: u64, side: u64) -> Result<(), IrError> {
        let px = self.n * side * side;
        self.norm(&format!("{pre}.norm1"), NormKind::GroupNorm, px, c_in)?;
        self.eltwise(&format!("{pre}.silu1"), "silu", px * c_in, 1, 5)?;
        self.conv(&format!("{pre}.conv1"), c_in, side, c_out, 3, 1)?;
        self.linear(
            &format!("{pre}.emb_proj"),
            self.n,
            4 * BASE_CHANNELS,
            c_out,
            true,
        )?;
        self.eltwise(&format!("{pre}.emb_add"), "add", px * c_out, 2, 1)?;
        self.norm(&format!("{pre}.norm2"), NormKind::GroupNorm, px, c_out)?;
        self.eltwise(&format!("{pre}.silu2"), "silu", px * c_out, 1, 5)?;
        self.conv(&format!("{pre}.conv2"), c_out, side, c_out, 3, 1)?;
        if c_in != c_out {
            self.conv(&format!("{pre}.skip"), c_in, side, c_out, 1, 1)?;
        }
        self.eltwise(&format!("{pre}.residual"), "add", px * c_out, 2, 1)
    }

    /// GroupNorm → proj_in → [LN → self-attn → LN → cross-attn → LN → GEGLU FF] → proj_out.
    fn transformer(&mut self, pre: &str, ch: u64, side: u64) -> Result<(), IrError> {
        let t = side * side;
        let rows = self.n * t;
        self.norm(&format!("{pre}.norm"), NormKind::GroupNorm, rows, ch)?;
        self.linear(&format!("{pre}.proj_in"), rows, ch, ch, true)?;
        self.norm(&format!("{pre}.ln1"), NormKind::LayerNorm, rows, ch)?;
        for p in ["q", "k", "v"] {
            self.linear(&format!("{pre}.attn1.{p}"), rows, ch, ch, false)?;
        }
        self.attention(&format!("{pre}.attn1.sdpa"), t, t, ch)?;
        self.linear(&format!("{pre}.attn1.out"), rows, ch, ch, true)?;
        self.eltwise(&format!("{pre}.attn1.residual"), "add", rows * ch, 2, 1)?;
        self.norm(&format!("{pre}.ln2"), NormKind::LayerNorm, rows, ch)?;
        self.linear(&format!("{pre}.attn2.q"), rows, ch, ch, false)?;
        let ctx_rows = self.n * CONTEXT_TOKENS;
        self.linear(&format!("{pre}.attn2.k"), ctx_rows, CONTEXT_DIM, ch, false)?;
        self.linear(&format!("{pre}.attn2.v"), ctx_rows, CONTEXT_DIM, ch, false)?;
        self.attention(&format!("{pre}.attn2.sdpa"), t, CONTEXT_TOKENS, ch)?;
        self.linear(&format!("{pre}.attn2.out"), rows, ch, ch, true)?;
        self.eltwise(&format!("{pre}.attn2.residual"), "add", rows * ch, 2, 1)?;
        self.norm(&format!("{pre}.ln3"), NormKind::LayerNorm, rows, ch)?;
        self.linear(&format!("{pre}.ff.geglu"), rows, ch, 2 * FF_MULT * ch, true)?;
        self.eltwise(
            &format!("{pre}.ff.gelu_mul"),
            "gelu_mul",
            rows * FF_MULT * ch,
            2,
            9,
        )?;
        self.linear(&format!("{pre}.ff.out"), rows, FF_MULT * ch, ch, true)?;
        self.eltwise(&format!("{pre}.ff.residual"), "add", rows * ch, 2, 1)?;
        self.linear(&format!("{pre}.proj_out"), rows, ch, ch, true)?;
        self.eltwise(&format!("{pre}.residual"), "add", rows * ch, 2, 1)
    }
}

/// One denoising step for `images` images (2 latents each: classifier-free guidance) at
/// precision `p`.
pub fn unet_step(images: u64, p: Precision) -> Result<Graph, IrError> {
    unet(images, p, Phase::Inference)
}

/// The UNet for `phase`: a denoising step ([`unet_step`]), or the forward of one training
/// step ([`Phase::Train`]) over `images` noised latents — one latent per image (guidance
/// doubles latents only at sampling time) — ending in the MSE between the predicted and the
/// added noise (Rombach et al. 2022, eq. 2; Ho et al. 2020, eq. 14).
pub fn unet(images: u64, p: Precision, phase: Phase) -> Result<Graph, IrError> {
    let train = phase == Phase::Train;
    xpusim_ir::checked_product(NAME, "images × 2 latents", &[images, 2])?;
    let n = if train { images } else { 2 * images };
    let (phase, per_sample) = if train {
        (Phase::Train, 1)
    } else {
        (Phase::Inference, 0)
    };
    let mut b = B {
        g: Graph::new(NAME, phase, images, per_sample),
        p,
        n,
    };
    let emb = 4 * BASE_CHANNELS;
    b.linear("time_embed.0", n, BASE_CHANNELS, emb, true)?;
    b.eltwise("time_embed.silu", "silu", n * emb, 1, 5)?;
    b.linear("time_embed.2", n, emb, emb, true)?;
    b.eltwise("emb.silu", "silu", n * emb, 1, 5)?;
    let mut side = LATENT_SIDE;
    b.conv("conv_in", LATENT_CHANNELS, side, BASE_CHANNELS, 3, 1)?;
    let mut skips = vec![BASE_CHANNELS];
    let mut ch = BASE_CHANNELS;
    let levels = CHANNEL_MULT.len() as u64;
    for (l, m) in CHANNEL_MULT.iter().enumerate() {
        let out = BASE_CHANNELS * m;
        for i in 0..RES_BLOCKS {
            b.res_block(&format!("down{l}.res{i}"), ch, out, side)?;
            ch = out;
            if (l as u64) < ATTN_LEVELS {
                b.transformer(&format!("down{l}.attn{i}"), ch, side)?;
            }
            skips.push(ch);
        }
        if (l as u64) + 1 < levels {
            side = b.conv(&format!("down{l}.downsample"), ch, side, ch, 3, 2)?;
            skips.push(ch);
        }
    }
    b.res_block("mid.res0", ch, ch, side)?;
    b.transformer("mid.attn", ch, side)?;
    b.res_block("mid.res1", ch, ch, side)?;
    for (l, m) in CHANNEL_MULT.iter().enumerate().rev() {
        let out = BASE_CHANNELS * m;
        for i in 0..=RES_BLOCKS {
            let skip = skips.pop().unwrap_or(0);
            b.g.push(Op::data_movement(
                &format!("up{l}.concat{i}"),
                "concat",
                n * side * side * (ch + skip),
                b.p.act,
            )?);
            b.res_block(&format!("up{l}.res{i}"), ch + skip, out, side)?;
            ch = out;
            if (l as u64) < ATTN_LEVELS {
                b.transformer(&format!("up{l}.attn{i}"), ch, side)?;
            }
        }
        if l > 0 {
            b.g.push(Op::data_movement(
                &format!("up{l}.upsample_nearest"),
                "upsample",
                n * 4 * side * side * ch,
                b.p.act,
            )?);
            side *= 2;
            b.conv(&format!("up{l}.upsample"), ch, side, ch, 3, 1)?;
        }
    }
    let px = n * side * side;
    b.norm("out.norm", NormKind::GroupNorm, px, ch)?;
    b.eltwise("out.silu", "silu", px * ch, 1, 5)?;
    b.conv("out.conv", ch, side, LATENT_CHANNELS, 3, 1)?;
    if train {
        let cols = LATENT_CHANNELS * side * side;
        b.g.push(Op::loss("loss", LossKind::Mse, n, cols, b.p.act)?);
    }
    Ok(b.g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xpusim_ir::DType;

    #[test]
    fn parameter_count_matches_the_published_unet() {
        let g = unet_step(1, Precision::uniform(DType::Bf16)).unwrap();
        // Every conv, linear, norm and bias of the v1 config: the count is exact.
        assert_eq!(g.totals().params, PUBLISHED_PARAMS);
    }

    #[test]
    fn one_step_is_conv_and_attention_heavy() {
        let g = unet_step(1, Precision::uniform(DType::Bf16)).unwrap();
        let fam = |f: &str| -> u64 {
            g.ops
                .iter()
                .filter(|o| o.kind.family() == f)
                .map(|o| o.flops() * o.repeat)
                .sum()
        };
        let total = g.totals().flops as f64;
        // Convolutions dominate a UNet; attention at 64×64 (4096 tokens) is significant.
        assert!(fam("conv") as f64 / total > 0.3);
        assert!(fam("attention") as f64 / total > 0.05);
        assert!(fam("matmul") as f64 / total > 0.1);
    }
}
