//! Convolutional networks: conv → BatchNorm → activation blocks, pooling, classifier.
//!
//! BatchNorm is kept as its own op (at inference it folds into a per-channel scale and
//! shift, 2 FLOPs per element); its γ and β are declared as parameters, running statistics
//! are buffers and are not.

use xpusim_ir::{ConvSpec, Graph, IrError, LossKind, NormKind, Op, Phase};

use crate::common::{conv2d, Builder};
use crate::{ModelError, Workload};

/// Activation after a conv + BN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvAct {
    None,
    Relu,
    /// min(max(x, 0), 6) (MobileNetV2).
    Relu6,
}

/// A feature map flowing through the network (NCHW).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fmap {
    pub n: u64,
    pub c: u64,
    pub h: u64,
    pub w: u64,
}

impl Fmap {
    fn elems(&self) -> u64 {
        self.n * self.c * self.h * self.w
    }
}

/// conv (no bias) → BN → activation, repeated `rep` times; returns the output map.
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv_bn(
    b: &mut Builder,
    name: &str,
    x: Fmap,
    k: u64,
    r: u64,
    stride: u64,
    groups: u64,
    act: ConvAct,
    rep: u64,
) -> Result<Fmap, IrError> {
    let spec = conv2d(x.n, x.c, x.h, x.w, k, r, stride, r / 2, groups);
    conv_spec_bn(b, name, spec, act, rep)
}

/// Like [`conv_bn`] for an arbitrary (e.g. rectangular) conv spec.
pub(crate) fn conv_spec_bn(
    b: &mut Builder,
    name: &str,
    spec: ConvSpec,
    act: ConvAct,
    rep: u64,
) -> Result<Fmap, IrError> {
    let (p, q) = b.conv(&format!("{name}.conv"), spec, false, rep)?;
    let y = Fmap {
        n: spec.n,
        c: spec.k,
        h: p,
        w: q,
    };
    b.norm(
        &format!("{name}.bn"),
        NormKind::BatchNorm,
        y.n * p * q,
        y.c,
        true,
        rep,
    )?;
    match act {
        ConvAct::None => {}
        ConvAct::Relu => b.eltwise(&format!("{name}.relu"), "relu", y.elems(), 1, 1, rep)?,
        ConvAct::Relu6 => b.eltwise(&format!("{name}.relu6"), "relu6", y.elems(), 1, 2, rep)?,
    }
    Ok(y)
}

/// Residual add followed by an optional ReLU.
fn residual(b: &mut Builder, name: &str, y: Fmap, relu: bool, rep: u64) -> Result<(), IrError> {
    b.eltwise(&format!("{name}.add"), "add", y.elems(), 2, 1, rep)?;
    if relu {
        b.eltwise(&format!("{name}.add_relu"), "relu", y.elems(), 1, 1, rep)?;
    }
    Ok(())
}

/// Global average pool then a `c → classes` fully connected layer with bias; in training,
/// the cross-entropy loss over the class logits.
fn classifier(b: &mut Builder, x: Fmap, classes: u64) -> Result<(), IrError> {
    b.push(
        Op::reduce("avgpool", "mean", x.elems(), x.n * x.c, b.act())?,
        1,
    )?;
    b.linear("fc", x.n, x.c, classes, true, 1)?;
    if b.g.phase == Phase::Train {
        crate::blocks::training_loss(b, LossKind::CrossEntropy, x.n, classes, false)?;
    }
    Ok(())
}

/// The graph's phase: a training forward, else inference (the only other phase a CNN or
/// RNN lists).
pub(crate) fn phase(w: &Workload) -> Phase {
    if w.phase == Phase::Train {
        Phase::Train
    } else {
        Phase::Inference
    }
}

fn input(w: &Workload, model: &str) -> Result<Fmap, ModelError> {
    let side = w.image_size.unwrap_or(224);
    if side < 32 {
        return Err(ModelError::InvalidWorkload {
            model: model.to_string(),
            msg: format!("image size {side} is below the 32-pixel minimum of a stride-32 CNN"),
        });
    }
    Ok(Fmap {
        n: w.batch,
        c: 3,
        h: side,
        w: side,
    })
}

/// ResNet (He et al. 2016, arXiv:1512.03385, Table 1). `blocks` per stage; `bottleneck`
/// selects 1×1-3×3-1×1 blocks with 4× expansion (ResNet-50/101/152) over two 3×3 convs
/// (ResNet-18/34). Stride sits on the 3×3 conv (torchvision "v1.5").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResNetConfig {
    pub blocks: [u64; 4],
    pub bottleneck: bool,
    pub classes: u64,
}

pub fn resnet(name: &str, cfg: &ResNetConfig, w: &Workload) -> Result<Graph, ModelError> {
    let mut b = Builder::new(Graph::new(name, phase(w), w.batch, 1), w.precision);
    let x = input(w, name)?;
    let mut x = conv_bn(&mut b, "stem", x, 64, 7, 2, 1, ConvAct::Relu, 1)?;
    let pool = conv2d(x.n, x.c, x.h, x.w, x.c, 3, 2, 1, 1);
    let (ph, pw) = pool.output_hw();
    // A 3×3 window per output at stride 2 (`Op::pool`: the input crosses memory once).
    b.push(
        Op::pool("maxpool", "max", x.elems(), x.n * x.c * ph * pw, 9, b.act())?,
        1,
    )?;
    x = Fmap { h: ph, w: pw, ..x };
    let expansion = if cfg.bottleneck { 4 } else { 1 };
    for (s, &n) in cfg.blocks.iter().enumerate() {
        let width = 64 << s;
        let stride = if s == 0 { 1 } else { 2 };
        for (i, rep) in [(0, 1), (1, n.saturating_sub(1))] {
            if rep == 0 {
                continue;
            }
            let pre = format!("stage{}.block{}", s + 1, if i == 0 { "0" } else { "N" });
            b.begin_layer();
            let st = if i == 0 { stride } else { 1 };
            let y = if cfg.bottleneck {
                let y = conv_bn(
                    &mut b,
                    &format!("{pre}.a"),
                    x,
                    width,
                    1,
                    1,
                    1,
                    ConvAct::Relu,
                    rep,
                )?;
                let y = conv_bn(
                    &mut b,
                    &format!("{pre}.b"),
                    y,
                    width,
                    3,
                    st,
                    1,
                    ConvAct::Relu,
                    rep,
                )?;
                conv_bn(
                    &mut b,
                    &format!("{pre}.c"),
                    y,
                    width * expansion,
                    1,
                    1,
                    1,
                    ConvAct::None,
                    rep,
                )?
            } else {
                let y = conv_bn(
                    &mut b,
                    &format!("{pre}.a"),
                    x,
                    width,
                    3,
                    st,
                    1,
                    ConvAct::Relu,
                    rep,
                )?;
                conv_bn(
                    &mut b,
                    &format!("{pre}.b"),
                    y,
                    width,
                    3,
                    1,
                    1,
                    ConvAct::None,
                    rep,
                )?
            };
            if st != 1 || x.c != y.c {
                conv_bn(
                    &mut b,
                    &format!("{pre}.downsample"),
                    x,
                    y.c,
                    1,
                    st,
                    1,
                    ConvAct::None,
                    rep,
                )?;
            }
            residual(&mut b, &pre, y, true, rep)?;
            b.end_layer();
            x = y;
        }
    }
    classifier(&mut b, x, cfg.classes)?;
    Ok(b.finish())
}

/// MobileNetV2 (Sandler et al. 2018, arXiv:1801.04381, Table 2): inverted residual
/// bottlenecks `(t, c, n, s)`, width multiplier 1.0, 1280-wide last conv.
pub const MOBILENET_V2_BLOCKS: [(u64, u64, u64, u64); 7] = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
];

pub fn mobilenet_v2(name: &str, w: &Workload) -> Result<Graph, ModelError> {
    let mut b = Builder::new(Graph::new(name, phase(w), w.batch, 1), w.precision);
    let x = input(w, name)?;
    let mut x = conv_bn(&mut b, "stem", x, 32, 3, 2, 1, ConvAct::Relu6, 1)?;
    for (bi, &(t, c, n, s)) in MOBILENET_V2_BLOCKS.iter().enumerate() {
        for (i, rep) in [(0, 1), (1, n.saturating_sub(1))] {
            if rep == 0 {
                continue;
            }
            let pre = format!("ir{}.{}", bi + 1, if i == 0 { "0" } else { "N" });
            b.begin_layer();
            let st = if i == 0 { s } else { 1 };
            let hidden = x.c * t;
            let mut y = x;
            if t != 1 {
                y = conv_bn(
                    &mut b,
                    &format!("{pre}.expand"),
                    y,
                    hidden,
                    1,
                    1,
                    1,
                    ConvAct::Relu6,
                    rep,
                )?;
            }
            y = conv_bn(
                &mut b,
                &format!("{pre}.dw"),
                y,
                hidden,
                3,
                st,
                hidden,
                ConvAct::Relu6,
                rep,
            )?;
            y = conv_bn(
                &mut b,
                &format!("{pre}.project"),
                y,
                c,
                1,
                1,
                1,
                ConvAct::None,
                rep,
            )?;
            if st == 1 && x.c == c {
                residual(&mut b, &pre, y, false, rep)?;
            }
            b.end_layer();
            x = y;
        }
    }
    let x = conv_bn(&mut b, "head", x, 1280, 1, 1, 1, ConvAct::Relu6, 1)?;
    classifier(&mut b, x, 1000)?;
    Ok(b.finish())
}
