//! Convolutions and pooling (ONNX operator spec: Conv, ConvTranspose, ConvInteger,
//! QLinearConv, MaxPool, AveragePool, LpPool, GlobalAveragePool, GlobalMaxPool).

use xpusim_ir::{ConvSpec, MatmulSpec, Names, Op, Role};

use crate::error::{NResult, NodeErr};
use crate::import::Importer;
use crate::lower::red;
use crate::node::Node;
use crate::value::{elem, Val};

/// Spatial window attributes shared by Conv, ConvTranspose and pooling.
struct Window {
    kernel: Vec<u64>,
    strides: Vec<u64>,
    dil: Vec<u64>,
    /// Begin pads then end pads, one per spatial axis each.
    pads: Vec<u64>,
    auto_pad: String,
}

fn window(n: &Node<'_>, kernel: Vec<u64>) -> NResult<Window> {
    let k = kernel.len();
    let get = |name: &str| -> NResult<Vec<u64>> {
        let v = n.aus(name)?.unwrap_or_else(|| vec![1; k]);
        if v.len() != k || v.contains(&0) {
            return Err(NodeErr::attr(
                name,
                format!("expected {k} positive values, got {v:?}"),
            ));
        }
        Ok(v)
    };
    let strides = get("strides")?;
    let dil = get("dilations")?;
    let pads = n.aus("pads")?.unwrap_or_else(|| vec![0; 2 * k]);
    if pads.len() != 2 * k {
        return Err(NodeErr::attr(
            "pads",
            format!("expected {} values, got {pads:?}", 2 * k),
        ));
    }
    Ok(Window {
        kernel,
        strides,
        dil,
        pads,
        auto_pad: n.astr("auto_pad", "NOTSET"),
    })
}

impl Window {
    /// Output size of a forward window over `input` (Conv spec "auto_pad" rules); updates
    /// `pads` for SAME_* padding.
    /// Output size of a forward window over `input` (Conv spec "auto_pad" rules); updates
    /// `pads` for SAME_* padding. Arithmetic is in u128 so no attribute value can overflow.
    #[allow(clippy::needless_range_loop)]
    fn forward(&mut self, input: &[u64], ceil: bool) -> NResult<Vec<u64>> {
        let k = self.kernel.len();
        let mut out = Vec::with_capacity(k);
        for i in 0..k {
            let w = |v: u64| v as u128;
            let eff = w(self.dil[i]) * (w(self.kernel[i].max(1)) - 1) + 1;
            let s = w(self.strides[i]);
            let inp = w(input[i]);
            let o: u128 = match self.auto_pad.as_str() {
                "SAME_UPPER" | "SAME_LOWER" => {
                    let o = inp.div_ceil(s);
                    let total = ((o.max(1) - 1) * s + eff).saturating_sub(inp);
                    let small = total / 2;
                    let (b, e) = if self.auto_pad == "SAME_UPPER" {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    };
                    self.pads[i] = to_u64(b)?;
                    self.pads[i + k] = to_u64(e)?;
                    o
                }
                "VALID" => {
                    self.pads[i] = 0;
                    self.pads[i + k] = 0;
                    inp.saturating_sub(eff) / s + 1
                }
                _ => {
                    let padded = inp + w(self.pads[i]) + w(self.pads[i + k]);
                    if padded < eff {
                        return Err(NodeErr::msg(format!(
                            "window {eff} larger than padded input {padded}"
                        )));
                    }
                    let span = padded - eff;
                    let mut o = if ceil { span.div_ceil(s) } else { span / s } + 1;
                    if ceil && (o - 1) * s >= inp + w(self.pads[i]) {
                        o -= 1;
                    }
                    o
                }
            };
            out.push(to_u64(o)?);
        }
        Ok(out)
    }
}

fn to_u64(v: u128) -> NResult<u64> {
    u64::try_from(v)
        .ok()
        .filter(|&v| v <= crate::value::MAX_DIM)
        .ok_or_else(|| NodeErr::msg(format!("spatial size {v} is too large")))
}

/// Conv / ConvInteger / QLinearConv / ConvTranspose.
pub(crate) fn conv(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let qlinear = n.op() == "QLinearConv";
    let transposed = n.op() == "ConvTranspose";
    let (x, w) = if qlinear {
        (n.x(0)?, n.x(3)?)
    } else {
        (n.x(0)?, n.x(1)?)
    };
    if x.rank() < 3 || w.rank() != x.rank() {
        return Err(NodeErr::msg(format!(
            "input {:?} and weight {:?} must both be N-D with N ≥ 3",
            x.shape, w.shape
        )));
    }
    let g = n.ai("group", 1);
    let g = u64::try_from(g)
        .ok()
        .filter(|&g| g > 0 && g <= 1 << 32)
        .ok_or_else(|| NodeErr::attr("group", "must be positive"))?;
    let nsp = x.rank() - 2;
    let kernel = n
        .aus("kernel_shape")?
        .unwrap_or_else(|| w.shape[2..].to_vec());
    if kernel.len() != nsp {
        return Err(NodeErr::attr("kernel_shape", "rank differs from input"));
    }
    let mut win = window(n, kernel)?;
    let (nb, c) = (x.shape[0], x.shape[1]);
    let spatial = &x.shape[2..];
    let k_out = if transposed {
        w.shape[1].saturating_mul(g)
    } else {
        w.shape[0]
    };
    let out_sp = if transposed {
        convt_out(n, &mut win, spatial)?
    } else {
        if w.shape[1].saturating_mul(g) != c {
            return Err(NodeErr::msg(format!(
                "weight {:?} × group {g} does not match {c} input channels",
                w.shape
            )));
        }
        win.forward(spatial, false)?
    };
    let int8 = matches!(n.op(), "ConvInteger" | "QLinearConv") || (x.quant && w.quant);
    let out_el = match n.op() {
        "ConvInteger" => elem::INT32,
        "QLinearConv" => n.opt(7).map(|v| v.elem).unwrap_or(x.elem),
        _ => x.elem,
    };
    let mut shape = vec![nb, k_out];
    shape.extend_from_slice(&out_sp);
    let out = Val::new(shape, out_el);
    let p = if int8 {
        im.int8_prec()
    } else {
        im.prec(x.elem)
    };
    let wname = if qlinear { n.in_name(3) } else { n.in_name(1) };
    if out.elems_sat() == 0 {
        return Ok(vec![out]);
    }
    if nsp <= 2 {
        let (h, ww) = if nsp == 1 {
            (1, spatial[0])
        } else {
            (spatial[0], spatial[1])
        };
        let two = |v: &[u64], d: u64| if nsp == 1 { (d, v[0]) } else { (v[0], v[1]) };
        let (r, s) = two(&win.kernel, 1);
        let pads = if nsp == 1 {
            (0, win.pads[0], 0, win.pads[1])
        } else {
            (win.pads[0], win.pads[1], win.pads[2], win.pads[3])
        };
        let spec = ConvSpec {
            n: nb,
            c,
            h,
            w: ww,
            k: k_out,
            r,
            s,
            stride: two(&win.strides, 1),
            pad: if transposed { (0, 0, 0, 0) } else { pads },
            dilation: two(&win.dil, 1),
            groups: g,
            transposed,
        };
        im.emit(n.op(), Op::conv(&n.name, spec, wname, p))?;
    } else {
        // 3-D and higher: the same MACs as a grouped GEMM per output (input) position.
        let ksz: u64 = win.kernel.iter().fold(1u64, |a, &d| a.saturating_mul(d));
        let pos: u64 = if transposed {
            spatial.iter().fold(1u64, |a, &d| a.saturating_mul(d))
        } else {
            out_sp.iter().fold(1u64, |a, &d| a.saturating_mul(d))
        };
        let (per_g_out, per_g_in) = (k_out / g, c / g);
        let spec = MatmulSpec {
            batch: g,
            m: nb.saturating_mul(pos),
            n: per_g_out,
            k: per_g_in.saturating_mul(ksz),
            rhs_batched: g > 1,
        };
        let names = Names {
            lhs: n.in_name(0),
            rhs: wname,
            out: n.out_name(0),
        };
        im.emit(
            n.op(),
            Op::matmul(
                &n.name,
                spec,
                names,
                Role::Weight,
                p.act,
                p.weight,
                p.compute,
            ),
        )?;
    }
    Ok(vec![out])
}

/// ConvTranspose output size: `output_shape`, else
/// `stride·(in−1) + output_padding + dil·(k−1) + 1 − pads` (SAME_*: `in·stride`).
fn convt_out(n: &Node<'_>, win: &mut Window, input: &[u64]) -> NResult<Vec<u64>> {
    let k = input.len();
    let opad = n.aus("output_padding")?.unwrap_or_else(|| vec![0; k]);
    if opad.len() != k {
        return Err(NodeErr::attr(
            "output_padding",
            "length differs from spatial rank",
        ));
    }
    if let Some(os) = n.aus("output_shape")? {
        if os.len() < k {
            return Err(NodeErr::attr("output_shape", "too short"));
        }
        return Ok(os[os.len() - k..].to_vec());
    }
    let mut out = Vec::with_capacity(k);
    for i in 0..k {
        let w = |v: u64| v as u128;
        let full = w(win.strides[i]) * (w(input[i].max(1)) - 1)
            + w(opad[i])
            + w(win.dil[i]) * (w(win.kernel[i].max(1)) - 1)
            + 1;
        let o = match win.auto_pad.as_str() {
            "SAME_UPPER" | "SAME_LOWER" => w(input[i]) * w(win.strides[i]),
            _ => full
                .checked_sub(w(win.pads[i]) + w(win.pads[i + k]))
                .ok_or_else(|| NodeErr::msg("pads exceed the transposed output"))?,
        };
        out.push(to_u64(o)?);
    }
    Ok(out)
}

/// MaxPool / AveragePool / LpPool (`ceil_mode`, `auto_pad`, `dilations`).
pub(crate) fn pool(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    if x.rank() < 3 {
        return Err(NodeErr::msg("pooling expects an N-D input with N ≥ 3"));
    }
    let kernel = n
        .aus("kernel_shape")?
        .ok_or_else(|| NodeErr::attr("kernel_shape", "missing"))?;
    if kernel.len() != x.rank() - 2 || kernel.contains(&0) {
        return Err(NodeErr::attr(
            "kernel_shape",
            format!("{kernel:?} does not fit {:?}", x.shape),
        ));
    }
    let taps = kernel
        .iter()
        .try_fold(1u64, |a, &k| a.checked_mul(k))
        .ok_or_else(|| NodeErr::attr("kernel_shape", format!("{kernel:?} overflows")))?;
    let mut win = window(n, kernel)?;
    let sp = win.forward(&x.shape[2..], n.ai("ceil_mode", 0) != 0)?;
    let mut shape = x.shape[..2].to_vec();
    shape.extend(sp);
    let out = Val::new(shape, x.elem);
    let func = n.op().to_ascii_lowercase();
    if x.elems_sat() > 0 && out.elems_sat() > 0 {
        let dt = im.prec(x.elem).act;
        let op = Op::pool(&n.name, &func, x.elems_sat(), out.elems_sat(), taps, dt);
        im.emit(n.op(), op)?;
    }
    let idx = Val::new(out.shape.clone(), elem::INT64);
    Ok(vec![out, idx])
}

/// GlobalAveragePool / GlobalMaxPool / GlobalLpPool: spatial dims become 1.
pub(crate) fn global_pool(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    if x.rank() < 2 {
        return Err(NodeErr::msg("global pooling expects rank ≥ 2"));
    }
    let mut shape = x.shape[..2].to_vec();
    shape.extend(std::iter::repeat_n(1, x.rank() - 2));
    let out = Val::new(shape, x.elem);
    let func = n.op().to_ascii_lowercase();
    red(im, n, &func, x.elems_sat(), out.elems_sat(), x.elem)?;
    Ok(vec![out])
}
