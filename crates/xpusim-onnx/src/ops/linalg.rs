//! Contractions (ONNX operator spec: MatMul, MatMulInteger, QLinearMatMul, Gemm, Einsum)
//! and quantisation ops (QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear).

use std::collections::BTreeMap;

use xpusim_ir::{MatmulSpec, Names, Op, Precision, Role};

use crate::error::{NResult, NodeErr};
use crate::import::Importer;
use crate::lower::{ew, red};
use crate::node::Node;
use crate::value::{broadcast, elem, Val};

#[allow(clippy::too_many_arguments)]
fn emit_mm(
    im: &mut Importer<'_>,
    n: &Node<'_>,
    b: u64,
    m: u64,
    nn: u64,
    k: u64,
    rhs_batched: bool,
    rhs: &Val,
    rhs_name: &str,
    p: Precision,
) -> NResult<()> {
    if b == 0 || m == 0 || nn == 0 || k == 0 {
        return Ok(());
    }
    let role = if rhs.konst { Role::Weight } else { Role::Input };
    let rdt = if rhs.konst { p.weight } else { p.act };
    let spec = MatmulSpec {
        batch: b,
        m,
        n: nn,
        k,
        rhs_batched,
    };
    let names = Names {
        lhs: n.in_name(0),
        rhs: rhs_name,
        out: n.out_name(0),
    };
    im.emit(
        n.op(),
        Op::matmul(&n.name, spec, names, role, p.act, rdt, p.compute),
    )
}

/// MatMul / MatMulInteger / QLinearMatMul with numpy semantics (1-D operands promoted,
/// batch dims broadcast). A weight shared across the batch folds the batch into M.
pub(crate) fn matmul(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let ql = n.op() == "QLinearMatMul";
    let (a, bi) = if ql { (n.x(0)?, 3) } else { (n.x(0)?, 1) };
    let b = n.x(bi)?;
    if a.rank() == 0 || b.rank() == 0 {
        return Err(NodeErr::msg("MatMul of a scalar"));
    }
    let (ash, bsh) = (&a.shape, &b.shape);
    let (m, ka, abatch) = if a.rank() == 1 {
        (1, ash[0], &ash[..0])
    } else {
        (ash[a.rank() - 2], ash[a.rank() - 1], &ash[..a.rank() - 2])
    };
    let (kb, nn, bbatch) = if b.rank() == 1 {
        (bsh[0], 1, &bsh[..0])
    } else {
        (bsh[b.rank() - 2], bsh[b.rank() - 1], &bsh[..b.rank() - 2])
    };
    if ka != kb {
        return Err(NodeErr::msg(format!(
            "MatMul inner dimensions differ: {ash:?} × {bsh:?}"
        )));
    }
    let batch = broadcast(&[abatch, bbatch])?;
    let mut shape = batch.clone();
    if a.rank() > 1 {
        shape.push(m);
    }
    if b.rank() > 1 {
        shape.push(nn);
    }
    let out_el = match n.op() {
        "MatMulInteger" => elem::INT32,
        "QLinearMatMul" => n.opt(7).map(|v| v.elem).unwrap_or(a.elem),
        _ => a.elem,
    };
    let int8 = n.op() != "MatMul" || (a.quant && b.quant);
    let p = if int8 {
        im.int8_prec()
    } else {
        im.prec(a.elem)
    };
    let bp: u64 = batch.iter().fold(1u64, |a, &d| a.saturating_mul(d));
    let rb: u64 = bbatch.iter().fold(1u64, |a, &d| a.saturating_mul(d));
    let bname = n.in_name(bi).to_string();
    if rb > 1 {
        emit_mm(im, n, bp, m, nn, ka, true, b, &bname, p)?;
    } else {
        emit_mm(im, n, 1, bp.saturating_mul(m), nn, ka, false, b, &bname, p)?;
    }
    Ok(vec![Val::new(shape, out_el)])
}

/// Gemm: `Y = α·op(A)·op(B) + β·C` with `transA`/`transB`.
pub(crate) fn gemm(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let (a, b) = (n.x(0)?, n.x(1)?);
    if a.rank() != 2 || b.rank() != 2 {
        return Err(NodeErr::msg(format!(
            "Gemm needs 2-D operands, got {:?} and {:?}",
            a.shape, b.shape
        )));
    }
    let (m, k) = if n.ai("transA", 0) != 0 {
        (a.shape[1], a.shape[0])
    } else {
        (a.shape[0], a.shape[1])
    };
    let (kb, nn) = if n.ai("transB", 0) != 0 {
        (b.shape[1], b.shape[0])
    } else {
        (b.shape[0], b.shape[1])
    };
    if k != kb {
        return Err(NodeErr::msg(format!(
            "Gemm inner dimensions differ: {:?} × {:?}",
            a.shape, b.shape
        )));
    }
    let p = if a.quant && b.quant {
        im.int8_prec()
    } else {
        im.prec(a.elem)
    };
    let bname = n.in_name(1).to_string();
    emit_mm(im, n, 1, m, nn, k, false, b, &bname, p)?;
    Ok(vec![Val::new(vec![m, nn], a.elem)])
}

/// Einsum-12: explicit (`->`) or implicit output, `...` broadcast dims. Lowered as one
/// batched contraction whose MACs are the product of all index sizes.
pub(crate) fn einsum(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let eq: String = n
        .astr("equation", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let (lhs, rhs) = match eq.split_once("->") {
        Some((l, r)) => (l.to_string(), Some(r.to_string())),
        None => (eq.clone(), None),
    };
    let ins: Vec<&Val> = n.ins.iter().flatten().collect();
    let terms: Vec<&str> = lhs.split(',').collect();
    if terms.len() != ins.len() {
        return Err(NodeErr::attr(
            "equation",
            format!(
                "`{eq}` has {} operands, node has {}",
                terms.len(),
                ins.len()
            ),
        ));
    }
    let bad = |m: &str| NodeErr::attr("equation", format!("`{eq}`: {m}"));
    let mut sizes: BTreeMap<char, u64> = BTreeMap::new();
    let mut labels: Vec<Vec<char>> = Vec::new();
    let mut ell_rank = 0usize;
    // Ellipsis dims get labels from the private-use range, right-aligned across operands.
    let ell = |i: usize, r: usize| char::from_u32(0xE000 + (r - i) as u32).unwrap_or('?');
    for (t, v) in terms.iter().zip(&ins) {
        let letters = t.replace("...", "");
        if t.matches("...").count() > 1 || !letters.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(bad(&format!(
                "term `{t}` is not letters with at most one `...`"
            )));
        }
        let has_ell = t.contains("...");
        let named = letters.chars().count();
        if named > v.rank() || (!has_ell && named != v.rank()) {
            return Err(bad(&format!("term `{t}` does not fit shape {:?}", v.shape)));
        }
        let er = v.rank() - named;
        ell_rank = ell_rank.max(er);
        let mut ls = Vec::new();
        let mut dim = 0;
        let (pre, post) = t.split_once("...").unwrap_or((t, ""));
        for c in pre.chars() {
            ls.push((c, v.shape[dim]));
            dim += 1;
        }
        if has_ell {
            for i in 0..er {
                ls.push((ell(i, er), v.shape[dim]));
                dim += 1;
            }
            for c in post.chars() {
                ls.push((c, v.shape[dim]));
                dim += 1;
            }
        }
        for &(c, d) in &ls {
            let e = sizes.entry(c).or_insert(d);
            if *e == 1 {
                *e = d;
            } else if d != 1 && d != *e {
                return Err(bad(&format!("index `{c}` has sizes {} and {d}", *e)));
            }
        }
        labels.push(ls.into_iter().map(|(c, _)| c).collect());
    }
    let out_labels: Vec<char> = match &rhs {
        Some(r) => {
            let letters = r.replace("...", "");
            if r.matches("...").count() > 1 || !letters.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(bad("output is not letters with at most one `...`"));
            }
            let (pre, post) = r.split_once("...").unwrap_or((r, ""));
            let mut v: Vec<char> = pre.chars().collect();
            if r.contains("...") {
                v.extend((0..ell_rank).map(|i| ell(i, ell_rank)));
                v.extend(post.chars());
            }
            v
        }
        None => {
            let mut v: Vec<char> = (0..ell_rank).map(|i| ell(i, ell_rank)).collect();
            let mut cnt: BTreeMap<char, usize> = BTreeMap::new();
            for l in labels.iter().flatten().filter(|c| c.is_ascii_alphabetic()) {
                *cnt.entry(*l).or_default() += 1;
            }
            v.extend(cnt.into_iter().filter(|&(_, k)| k == 1).map(|(c, _)| c));
            v
        }
    };
    let shape: Vec<u64> = out_labels
        .iter()
        .map(|c| {
            sizes
                .get(c)
                .copied()
                .ok_or_else(|| bad(&format!("output index `{c}` not in inputs")))
        })
        .collect::<NResult<_>>()?;
    let out = Val::new(shape, ins[0].elem);
    let p = im.prec(ins[0].elem);
    let prod = |f: &dyn Fn(char) -> bool| {
        sizes
            .iter()
            .filter(|(c, _)| f(**c))
            .map(|(_, d)| *d)
            .fold(1u64, |a, d| a.saturating_mul(d))
    };
    let in_out = |c: char| out_labels.contains(&c);
    if ins.len() == 2 {
        let (l0, l1) = (&labels[0], &labels[1]);
        let bb = prod(&|c| in_out(c) && l0.contains(&c) && l1.contains(&c));
        let m = prod(&|c| in_out(c) && l0.contains(&c) && !l1.contains(&c));
        let nn = prod(&|c| in_out(c) && !l0.contains(&c) && l1.contains(&c));
        let k = prod(&|c| !in_out(c));
        let rname = n.in_name(1).to_string();
        emit_mm(im, n, bb, m, nn, k, bb > 1, ins[1], &rname, p)?;
    } else if ins.len() == 1 {
        let f = if out.elems_sat() == ins[0].elems_sat() {
            "einsum_transpose"
        } else {
            "einsum_reduce"
        };
        red(im, n, f, ins[0].elems_sat(), out.elems_sat(), ins[0].elem)?;
    } else {
        let m = prod(&in_out);
        let k = prod(&|c| !in_out(c));
        let rname = n.in_name(1).to_string();
        emit_mm(im, n, 1, m, 1, k, false, ins[1], &rname, p)?;
    }
    Ok(vec![out])
}

/// QuantizeLinear / DequantizeLinear (per-tensor, per-axis or blocked scales).
pub(crate) fn qdq(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let mut out = Val::new(x.shape.clone(), x.elem);
    if n.op() == "QuantizeLinear" {
        out.elem = match n.opt(2) {
            Some(z) => z.elem,
            None => match n.ai("output_dtype", 0) as i32 {
                0 => elem::UINT8,
                t => t,
            },
        };
    } else {
        out.elem = n.opt(1).map(|s| s.elem).unwrap_or(elem::FLOAT);
        out.quant = matches!(x.elem, elem::INT8 | elem::UINT8 | elem::INT4 | elem::UINT4);
    }
    ew(im, n, &n.op().to_ascii_lowercase(), &out, 1, 2)?;
    Ok(vec![out])
}

/// DynamicQuantizeLinear: uint8 `y` plus scalar scale and zero point (a min/max reduction
/// over `x`, then a pointwise quantisation).
pub(crate) fn dyn_quant(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let mut y = Val::new(x.shape.clone(), elem::UINT8);
    red(im, n, "minmax", x.elems_sat(), 2, x.elem)?;
    ew(im, n, "quantize", &y, 1, 3)?;
    y.quant = false;
    Ok(vec![
        y,
        Val::new(vec![], elem::FLOAT),
        Val::new(vec![], elem::UINT8),
    ])
}
