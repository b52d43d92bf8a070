//! Backward of the ops that are not contractions: embeddings, elementwise functions, norms,
//! softmax, losses, reductions and data movement.

use super::*;

pub(super) fn embedding(op: &Op, tokens: u64, dim: u64, r: GradRoles) -> Result<Op, IrError> {
    let (table, out) = match op.operands.as_slice() {
        [t, o, ..] if t.role == Role::Weight && o.role == Role::Output => (t, o),
        _ => return Err(cannot(op, "it does not have the (table, output) operands")),
    };
    // The table's gradient rows first, like the table in the forward (sharding splits it).
    let mut d = Op::new(
        &format!("{}.grad", op.name),
        OpKind::Embedding {
            tokens,
            dim,
            pass: Pass::ParamGrad,
        },
        vec![
            operand(
                &g(&table.tensor),
                Role::Grad,
                table.shape.clone(),
                table.dtype,
            ),
            operand(&g(&out.tensor), Role::Input, out.shape.clone(), out.dtype),
        ],
        op.compute_dtype,
    );
    d.role = r.input;
    Ok(d)
}

/// Costs of an activation `f`: (forward FLOPs, backward FLOPs of `dx = dy·f'(x)` with the
/// derivative recomputed from `x`), per element.
fn activation(f: &str) -> Option<(u64, u64)> {
    Some(match f {
        "relu" => (1, 1),
        "relu6" => (2, 2),
        // tanh form: inner polynomial, tanh, 0.5·x·(1 + t) (8); backward adds the
        // derivative of the polynomial and of tanh, then dy· (17).
        "gelu" => (8, 17),
        // x·σ(x) (5); dy·σ·(1 + x·(1 − σ)) with σ recomputed (9).
        "silu" => (5, 9),
        // σ (4); dy·σ·(1 − σ) with σ recomputed (7).
        "sigmoid" => (4, 7),
        // tanh (5, as the zoo counts it); dy·(1 − y²) (3).
        "tanh" => (5, 3),
        // log(1 + exp x) (3); dy·σ(x) (5).
        "softplus" => (3, 5),
        _ => return None,
    })
}

/// How an elementwise op's backward computes: FLOPs per output element, how many saved
/// forward inputs it reads, how many further gradients it reads and how many it writes.
struct EltRule {
    flops: u64,
    saved_inputs: u64,
    saved_output: bool,
    grads_read: u64,
    grads_written: u64,
}

fn elt_rule(func: &str, n: u64, fwd: u64) -> EltRule {
    let rule = |flops, saved_inputs, grads_read, grads_written| EltRule {
        flops,
        saved_inputs,
        saved_output: false,
        grads_read,
        grads_written,
    };
    let gated = |f: u64, b: u64| rule(f + b + 2, 2, 0, 2);
    match func {
        // Accumulation of `n` gradient streams at the fork (module doc).
        "add" => rule(n.saturating_sub(1).max(1), 0, n.saturating_sub(1), 1),
        // The inverse rotation: the forward's FLOPs, the same cos/sin tables.
        "rope" => rule(fwd, 0, 0, 1),
        // Σ w_i·x_i: dx_i = w_i·dy (k), dw_i = Σ dy·x_i (2k).
        "weighted_sum" => rule(3 * n, n, 0, n),
        // tanh(a + b): dy·(1 − y²) from the saved output, one gradient for both inputs.
        "add_tanh" => EltRule {
            saved_output: true,
            ..rule(3, 0, 0, 1)
        },
        // dy · mask / (1 − p): the saved one-byte mask (read below), not the input.
        "dropout" => rule(2, 0, 0, 1),
        // A relative-position bias gathered from a table: its backward scatter-adds dY into
        // the table's gradient (written as the parameter's gradient), one add per element.
        "position_bias" => rule(1, 0, 0, 0),
        f => match (f.strip_suffix("_mul").and_then(activation), activation(f)) {
            (Some((a, b)), _) => gated(a, b),
            // An activation over two inputs multiplies them (MoE experts' gated act).
            (None, Some((a, b))) if n == 2 => gated(a, b),
            (None, Some((_, b))) => rule(b, 1, 0, 1),
            // Recompute the local derivatives (the forward's FLOPs), one multiply per input.
            _ => rule(fwd + n, n, 0, n),
        },
    }
}

pub(super) fn elementwise(
    op: &Op,
    func: &str,
    elems: u64,
    fwd_flops: u64,
    r: GradRoles,
) -> Result<Op, IrError> {
    let (out, shape) = output(op, elems);
    let dt = op.compute_dtype;
    // An epilogue lost its first input (the convolution's output) from its operands.
    let mut inputs: Vec<String> = Vec::new();
    if op.epilogue {
        inputs.push(format!("{}.in0", op.name));
    }
    inputs.extend(by_role(op, Role::Input).map(|o| o.tensor.clone()));
    let n = inputs.len().max(1) as u64;
    let rule = elt_rule(func, n, fwd_flops);
    let act = |t: &str, role| operand(t, role, shape.clone(), dt);
    let mut ops = vec![act(&g(&out), Role::Input)];
    for t in inputs.iter().take(rule.saved_inputs as usize) {
        ops.push(act(t, Role::Input));
    }
    if rule.saved_output {
        ops.push(act(&out, Role::Input));
    }
    for i in 0..rule.grads_read {
        ops.push(act(&format!("{}.grad_in{i}", op.name), Role::Input));
    }
    if func == "dropout" {
        // The mask the forward kept (its one-byte output).
        for m in by_role(op, Role::Output).filter(|m| m.dtype == DType::Int8) {
            ops.push(operand(&m.tensor, Role::Input, m.shape.clone(), m.dtype));
        }
    }
    for i in 0..rule.grads_written as usize {
        let t = inputs
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("{}.in{i}", op.name));
        ops.push(act(&g(&t), Role::Output));
    }
    for p in by_role(op, Role::Weight) {
        ops.push(operand(&g(&p.tensor), Role::Grad, p.shape.clone(), p.dtype));
    }
    let mut d = Op::new(
        &format!("{}.grad", op.name),
        OpKind::Elementwise {
            func: format!("{func}_grad"),
            elems,
            flops_per_elem: rule.flops,
        },
        ops,
        dt,
    );
    d.role = r.input;
    Ok(d)
}

pub(super) fn norm(
    op: &Op,
    kind: NormKind,
    rows: u64,
    cols: u64,
    r: GradRoles,
) -> Result<Vec<Op>, IrError> {
    let dt = op.compute_dtype;
    let (out, _) = output(op, rows * cols);
    let x = by_role(op, Role::Input)
        .next()
        .map(|o| o.tensor.clone())
        .unwrap_or_else(|| format!("{}.in", op.name));
    let mut params: Vec<Operand> = by_role(op, Role::Weight).cloned().collect();
    if op.epilogue && params.is_empty() {
        // A BatchNorm fused into a convolution lost its folded scale and shift.
        for p in ["gamma", "beta"] {
            params.push(operand(
                &format!("{}.{p}", op.name),
                Role::Weight,
                vec![cols],
                dt,
            ));
        }
    }
    let gamma = params
        .first()
        .cloned()
        .unwrap_or_else(|| operand(&format!("{}.gamma", op.name), Role::Weight, vec![cols], dt));
    // Mean and rstd per normalised group (RMSNorm: rstd), FP32, saved by the forward.
    let stats_shape = match kind {
        NormKind::BatchNorm => vec![cols, 2],
        NormKind::RmsNorm => vec![rows, 1],
        NormKind::LayerNorm | NormKind::GroupNorm => vec![rows, 2],
    };
    let stats = operand(
        &format!("{}.stats", op.name),
        Role::Input,
        stats_shape,
        DType::Fp32,
    );
    let a = |t: &str, role| operand(t, role, vec![rows, cols], dt);
    let mut dx = Op::new(
        &format!("{}.grad", op.name),
        OpKind::Norm {
            kind,
            rows,
            cols,
            pass: Pass::InputGrad,
        },
        vec![
            a(&g(&out), Role::Input),
            a(&x, Role::Input),
            gamma,
            stats.clone(),
            a(&g(&x), Role::Output),
        ],
        dt,
    );
    dx.role = r.input;
    let mut ops = vec![a(&g(&out), Role::Input), a(&x, Role::Input), stats];
    ops.extend(
        params
            .iter()
            .map(|p| operand(&g(&p.tensor), Role::Grad, p.shape.clone(), p.dtype)),
    );
    let mut dw = Op::new(
        &format!("{}.wgrad", op.name),
        OpKind::Norm {
            kind,
            rows,
            cols,
            pass: Pass::ParamGrad,
        },
        ops,
        dt,
    );
    dw.role = r.input;
    Ok(vec![dx, dw])
}

pub(super) fn softmax(op: &Op, rows: u64, cols: u64, r: GradRoles) -> Result<Op, IrError> {
    let dt = op.compute_dtype;
    let (out, _) = output(op, rows * cols);
    let x = by_role(op, Role::Input)
        .next()
        .map(|o| o.tensor.clone())
        .unwrap_or_else(|| format!("{}.in", op.name));
    let a = |t: &str, role| operand(t, role, vec![rows, cols], dt);
    let mut d = Op::new(
        &format!("{}.grad", op.name),
        OpKind::Softmax {
            rows,
            cols,
            pass: Pass::InputGrad,
        },
        vec![
            a(&g(&out), Role::Input),
            a(&out, Role::Input),
            a(&g(&x), Role::Output),
        ],
        dt,
    );
    d.role = r.input;
    Ok(d)
}

pub(super) fn loss(
    op: &Op,
    kind: LossKind,
    rows: u64,
    cols: u64,
    r: GradRoles,
) -> Result<Op, IrError> {
    let named = |i: usize, fallback: &str| {
        op.operands
            .get(i)
            .map(|o| o.tensor.clone())
            .unwrap_or_else(|| format!("{}.{fallback}", op.name))
    };
    let dt = op.compute_dtype;
    let pred = named(0, "in");
    let target = named(1, "target");
    let loss = named(2, "loss");
    let p = |t: &str, role| operand(t, role, vec![rows, cols], dt);
    let mut ops = vec![p(&pred, Role::Input)];
    match kind {
        LossKind::CrossEntropy => {
            ops.push(operand(
                &named(3, "lse"),
                Role::Input,
                vec![rows],
                DType::Fp32,
            ));
            ops.push(operand(&target, Role::Input, vec![rows], DType::Fp32));
        }
        LossKind::Mse => ops.push(p(&target, Role::Input)),
    }
    ops.push(operand(&g(&loss), Role::Input, vec![1], DType::Fp32));
    ops.push(p(&g(&pred), Role::Output));
    let mut d = Op::new(
        &format!("{}.grad", op.name),
        OpKind::Loss {
            kind,
            rows,
            cols,
            pass: Pass::InputGrad,
        },
        ops,
        dt,
    );
    d.role = r.input;
    Ok(d)
}

pub(super) fn reduce(op: &Op, func: &str, in_elems: u64, r: GradRoles) -> Result<Op, IrError> {
    let dt = op.compute_dtype;
    let x = by_role(op, Role::Input)
        .next()
        .cloned()
        .unwrap_or_else(|| operand(&format!("{}.in", op.name), Role::Input, vec![in_elems], dt));
    let (out, shape) = output(op, 1);
    let mut ops = vec![operand(&g(&out), Role::Input, shape, dt)];
    if func == "max" {
        // Max pooling routes dY to the arg-max of each window: it re-reads the input.
        ops.push(x.clone());
    }
    ops.push(operand(&g(&x.tensor), Role::Output, x.shape.clone(), dt));
    let mut d = Op::new(
        &format!("{}.grad", op.name),
        OpKind::Reduce {
            func: format!("{func}_grad"),
            in_elems,
        },
        ops,
        dt,
    );
    d.role = r.input;
    Ok(d)
}

pub(super) fn data_movement(op: &Op, func: &str, r: GradRoles) -> Result<Op, IrError> {
    let dt = op.compute_dtype;
    let x = by_role(op, Role::Input).next().cloned();
    let moved = x.as_ref().map_or(1, Operand::elems);
    let x = x.unwrap_or_else(|| operand(&format!("{}.in", op.name), Role::Input, vec![moved], dt));
    let (out, shape) = output(op, moved);
    let mut ops = vec![
        operand(&g(&out), Role::Input, shape, dt),
        operand(&g(&x.tensor), Role::Output, x.shape.clone(), dt),
    ];
    for p in by_role(op, Role::Weight) {
        ops.push(operand(&g(&p.tensor), Role::Grad, p.shape.clone(), p.dtype));
    }
    // Nearest upsampling copies each value into a window; its adjoint sums the window.
    let kind = if func == "upsample" {
        OpKind::Reduce {
            func: "upsample_grad".into(),
            in_elems: moved,
        }
    } else {
        OpKind::DataMovement {
            func: format!("{func}_grad"),
        }
    };
    let mut d = Op::new(&format!("{}.grad", op.name), kind, ops, dt);
    d.role = r.input;
    Ok(d)
}
