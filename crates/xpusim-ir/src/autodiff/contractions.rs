//! Backward of the contractions: matmul, convolution, attention, recurrent layers and the
//! selective scan (the module doc of [`super`] has the conventions).

use super::*;

pub(super) fn matmul(
    op: &Op,
    m: &MatmulSpec,
    r: GradRoles,
    model_input: bool,
) -> Result<Vec<Op>, IrError> {
    let [x, w, y] = three(op)?;
    let act = y.dtype;
    let dy = g(&y.tensor);
    let mut v = Vec::new();
    if !model_input {
        // dX[b,m,k] = dY[b,m,n] · Wᵀ[(b),n,k]
        let spec = MatmulSpec {
            batch: m.batch,
            m: m.m,
            n: m.k,
            k: m.n,
            rhs_batched: m.rhs_batched,
        };
        let names = Names {
            lhs: &dy,
            rhs: &w.tensor,
            out: &g(&x.tensor),
        };
        let mut d = Op::matmul(
            &format!("{}.dgrad", op.name),
            spec,
            names,
            w.role,
            act,
            w.dtype,
            op.compute_dtype,
        )?;
        d.operands[1].group = w.group;
        d.role = r.input;
        v.push(d);
    }
    // The reduction of a gradient of the right operand runs over every row: per batch when
    // the right operand has its own batch axis, over batch × rows when it is shared.
    let (b, red) = if m.rhs_batched {
        (m.batch, m.m)
    } else {
        (1, m.batch * m.m)
    };
    if w.role == Role::Weight {
        let row = matches!(op.role, OpRole::Row(_));
        // Column-split (or unsplit) weight: dW[k,n] = Xᵀ[k,·]·dY[·,n], split dim n.
        // Row-split weight: dWᵀ[n,k] = dYᵀ[n,·]·X[·,k], so that the split k is its n.
        let (spec, lhs, rhs) = if row {
            let s = MatmulSpec {
                batch: b,
                m: m.n,
                n: m.k,
                k: red,
                rhs_batched: m.rhs_batched,
            };
            (s, dy.as_str(), x.tensor.as_str())
        } else {
            let s = MatmulSpec {
                batch: b,
                m: m.k,
                n: m.n,
                k: red,
                rhs_batched: m.rhs_batched,
            };
            (s, x.tensor.as_str(), dy.as_str())
        };
        let names = Names {
            lhs,
            rhs,
            out: &g(&w.tensor),
        };
        let mut wg = Op::matmul(
            &format!("{}.wgrad", op.name),
            spec,
            names,
            Role::Input,
            act,
            act,
            op.compute_dtype,
        )?;
        wg.operands[2].role = Role::Grad;
        wg.role = r.weight;
        v.push(wg);
    } else {
        // dB[(b),k,n] = Aᵀ[(b),k,m] · dY[(b),m,n]: an activation gradient.
        let spec = MatmulSpec {
            batch: b,
            m: m.k,
            n: m.n,
            k: red,
            rhs_batched: m.rhs_batched,
        };
        let names = Names {
            lhs: &x.tensor,
            rhs: &dy,
            out: &g(&w.tensor),
        };
        let mut d = Op::matmul(
            &format!("{}.dgrad_rhs", op.name),
            spec,
            names,
            Role::Input,
            act,
            act,
            op.compute_dtype,
        )?;
        d.role = r.input;
        v.push(d);
    }
    for p in op.operands[3..].iter().filter(|o| o.role == Role::Weight) {
        v.push(bias_grad(op, p, &dy, y.elems(), act, r.bias));
    }
    Ok(v)
}

pub(super) fn conv(
    op: &Op,
    c: &ConvSpec,
    r: GradRoles,
    model_input: bool,
) -> Result<Vec<Op>, IrError> {
    let [x, w, y] = three(op)?;
    let act = y.dtype;
    let dy = g(&y.tensor);
    let mut v = Vec::new();
    let (p, q) = c.output_hw();
    if !model_input {
        // The adjoint of a convolution is the transposed convolution with the same kernel,
        // stride, padding, dilation and groups (and vice versa), over the output's size.
        let spec = ConvSpec {
            n: c.n,
            c: c.k,
            h: p,
            w: q,
            k: c.c,
            transposed: !c.transposed,
            ..*c
        };
        let mut d = Op::conv(
            &format!("{}.dgrad", op.name),
            spec,
            &w.tensor,
            precision(op, act, w.dtype),
        )?;
        d.operands[0].tensor = dy.clone();
        d.operands[1] = w.clone();
        d.operands[2].tensor = g(&x.tensor);
        d.operands[2].shape = x.shape.clone();
        d.role = r.input;
        v.push(d);
    }
    // dW per group as the implicit GEMM: M = k/g, N = c/g·r·s, K = n·p·q (a transposed
    // forward iterates its input positions: K = n·h·w, M = c/g, N = k/g·r·s).
    let gr = c.groups;
    let (mm, nn, kk) = if c.transposed {
        (c.c / gr, c.k / gr * c.r * c.s, c.n * c.h * c.w)
    } else {
        (c.k / gr, c.c / gr * c.r * c.s, c.n * p * q)
    };
    checked_product(&op.name, "wgrad GEMM", &[gr, mm, nn, kk])?;
    let spec = MatmulSpec {
        batch: gr,
        m: mm,
        n: nn,
        k: kk,
        rhs_batched: true,
    };
    let names = Names {
        lhs: &dy,
        rhs: &x.tensor,
        out: &g(&w.tensor),
    };
    let mut wg = Op::matmul(
        &format!("{}.wgrad", op.name),
        spec,
        names,
        Role::Input,
        act,
        act,
        op.compute_dtype,
    )?;
    // The tensors' own shapes: dY, X and dW (the GEMM view gathers windows of X).
    wg.operands[0].shape = y.shape.clone();
    wg.operands[1].shape = x.shape.clone();
    wg.operands[2].shape = w.shape.clone();
    wg.operands[2].dtype = w.dtype;
    wg.operands[2].role = Role::Grad;
    // A grouped (depthwise) convolution on split channels: its per-group GEMMs are batched
    // over the channels the devices split.
    wg.role = match (op.role, gr > 1) {
        (OpRole::Sliced(b), true) => OpRole::Heads(b),
        _ => r.weight,
    };
    v.push(wg);
    for b in op.operands[3..].iter().filter(|o| o.role == Role::Weight) {
        v.push(bias_grad(op, b, &dy, y.elems(), act, r.bias));
    }
    Ok(v)
}

pub(super) fn attention(op: &Op, a: &AttentionSpec, r: GradRoles) -> Result<Op, IrError> {
    let fwd = match op.operands.as_slice() {
        [q, k, v, o, ..] if o.role == Role::Output => [q, k, v, o],
        _ => return Err(cannot(op, "it does not have the (q, k, v, out) operands")),
    };
    let act = fwd[0].dtype;
    let mut d = Op::attention_grad(&format!("{}.grad", op.name), *a, precision(op, act, act))?;
    let names = [
        fwd[0].tensor.clone(),
        fwd[1].tensor.clone(),
        fwd[2].tensor.clone(),
        fwd[3].tensor.clone(),
        g(&fwd[3].tensor),
        format!("{}.lse", op.name),
        g(&fwd[0].tensor),
        g(&fwd[1].tensor),
        g(&fwd[2].tensor),
    ];
    for (o, n) in d.operands.iter_mut().zip(names) {
        o.tensor = n;
    }
    // Parameters the attention reads (GNMT's additive score vector): read, and their
    // gradients written.
    for p in op.operands[4..].iter().filter(|o| o.role == Role::Weight) {
        d.operands.push(p.clone());
        d.operands
            .push(operand(&g(&p.tensor), Role::Grad, p.shape.clone(), p.dtype));
    }
    d.role = r.input;
    Ok(d)
}

pub(super) fn recurrent(op: &Op, rs: &RecurrentSpec, r: GradRoles) -> Result<Vec<Op>, IrError> {
    let [x, w_ih, w_hh, y] = match op.operands.as_slice() {
        [x, a, b, y, ..] if y.role == Role::Output => [x, a, b, y],
        _ => {
            return Err(cannot(
                op,
                "it does not have the (x, w_ih, w_hh, y) operands",
            ))
        }
    };
    let act = y.dtype;
    let gh = rs.cell.gates() * rs.hidden_size;
    let dgates = format!("{}.dgates", op.name);
    // cudnnRNNBackwardData: the recurrent dgrad over seq_len dependent steps plus the
    // input-side dX of every step as one GEMM; reads dY, both weights and the gate
    // activations the forward saved (cuDNN's reserve space).
    let mut d = Op::recurrent(
        &format!("{}.dgrad", op.name),
        *rs,
        precision(op, act, w_ih.dtype),
    )?;
    d.operands = vec![
        operand(&g(&y.tensor), Role::Input, y.shape.clone(), act),
        w_ih.clone(),
        w_hh.clone(),
        operand(&g(&x.tensor), Role::Output, x.shape.clone(), act),
        operand(
            &format!("{}.reserve", op.name),
            Role::Input,
            vec![rs.seq_len, rs.directions, rs.batch, gh],
            act,
        ),
    ];
    d.role = r.input;
    // cudnnRNNBackwardWeights: dW = dgatesᵀ · [X, H_{t−1}] over all steps at once.
    let rows = rs.seq_len * rs.batch;
    let spec = MatmulSpec {
        batch: rs.directions,
        m: gh,
        n: rs.input_size + rs.hidden_size,
        k: rows,
        rhs_batched: true,
    };
    let names = Names {
        lhs: &dgates,
        rhs: &format!("{}.xh", op.name),
        out: &g(&w_ih.tensor),
    };
    let mut wg = Op::matmul(
        &format!("{}.wgrad", op.name),
        spec,
        names,
        Role::Input,
        act,
        act,
        op.compute_dtype,
    )?;
    wg.operands[2] = operand(&g(&w_ih.tensor), Role::Grad, w_ih.shape.clone(), w_ih.dtype);
    wg.operands.push(operand(
        &g(&w_hh.tensor),
        Role::Grad,
        w_hh.shape.clone(),
        w_hh.dtype,
    ));
    wg.role = r.weight;
    let mut v = vec![d, wg];
    let dgates_elems = rs.directions * rows * gh;
    for b in op.operands[4..].iter().filter(|o| o.role == Role::Weight) {
        v.push(bias_grad(op, b, &dgates, dgates_elems, act, r.bias));
    }
    Ok(v)
}

pub(super) fn scan(op: &Op, s: &ScanSpec, r: GradRoles) -> Result<Op, IrError> {
    let f = match op.operands.as_slice() {
        [x, dt, bc, a, h, y, ..] => [x, dt, bc, a, h, y],
        _ => {
            return Err(cannot(
                op,
                "it does not have the (x, dt, bc, A, state, y) operands",
            ))
        }
    };
    let act = f[0].dtype;
    let spec = ScanSpec {
        pass: Pass::InputGrad,
        ..*s
    };
    let mut d = Op::scan(&format!("{}.grad", op.name), spec, precision(op, act, act))?;
    // Operands in the forward's order (x, dt, B|C, A, saved states) so sharding splits them
    // alike, then dy, the input gradients and the parameter gradients.
    let input = |o: &Operand| Operand {
        role: Role::Input,
        ..o.clone()
    };
    d.operands = vec![
        input(f[0]),
        input(f[1]),
        input(f[2]),
        f[3].clone(),
        input(f[4]),
        operand(&g(&f[5].tensor), Role::Input, f[5].shape.clone(), act),
        operand(&g(&f[0].tensor), Role::Output, f[0].shape.clone(), act),
        operand(&g(&f[1].tensor), Role::Output, f[1].shape.clone(), act),
        operand(&g(&f[2].tensor), Role::Output, f[2].shape.clone(), act),
        operand(&g(&f[3].tensor), Role::Grad, f[3].shape.clone(), f[3].dtype),
    ];
    for p in op.operands[6..].iter().filter(|o| o.role == Role::Weight) {
        d.operands.push(p.clone());
        d.operands
            .push(operand(&g(&p.tensor), Role::Grad, p.shape.clone(), p.dtype));
    }
    d.role = r.input;
    Ok(d)
}
