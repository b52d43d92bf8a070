//! Recurrent layers (ONNX operator spec: LSTM, GRU, RNN; com.microsoft
//! DynamicQuantizeLSTM) lowered to `Op::recurrent`, keeping the time dependence.

use xpusim_ir::{Op, RecurrentCell, RecurrentSpec};

use crate::error::{NResult, NodeErr};
use crate::import::Importer;
use crate::node::Node;
use crate::value::Val;

/// `layout = 0`: X `[seq, batch, in]`, Y `[seq, dirs, batch, H]`, Y_h/Y_c `[dirs, batch, H]`;
/// `layout = 1`: X `[batch, seq, in]`, Y `[batch, seq, dirs, H]`, Y_h/Y_c `[batch, dirs, H]`.
pub(crate) fn recurrent(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let cell = match n.op() {
        "LSTM" | "DynamicQuantizeLSTM" => RecurrentCell::Lstm,
        "GRU" => RecurrentCell::Gru,
        _ => RecurrentCell::Rnn,
    };
    let dq = n.op() == "DynamicQuantizeLSTM";
    let (x, w, r) = (n.x(0)?, n.x(1)?, n.x(2)?);
    if x.rank() != 3 || w.rank() != 3 || r.rank() != 3 {
        return Err(NodeErr::msg(format!(
            "X {:?}, W {:?} and R {:?} must be 3-D",
            x.shape, w.shape, r.shape
        )));
    }
    let layout = n.ai("layout", 0);
    let (seq, batch, input) = if layout == 0 {
        (x.shape[0], x.shape[1], x.shape[2])
    } else {
        (x.shape[1], x.shape[0], x.shape[2])
    };
    let dirs = match n.astr("direction", "forward").as_str() {
        "bidirectional" => 2,
        "forward" | "reverse" => 1,
        d => {
            return Err(NodeErr::attr(
                "direction",
                format!("unknown direction `{d}`"),
            ))
        }
    };
    // R is [dirs, gates·H, H] (ONNX) or [dirs, H, gates·H] (DynamicQuantizeLSTM).
    let h_from_r = if dq { r.shape[1] } else { r.shape[2] };
    let h = match n.attr("hidden_size") {
        Some(a) => u64::try_from(a.i).map_err(|_| NodeErr::attr("hidden_size", "negative"))?,
        None => h_from_r,
    };
    // A layer with no hidden units does no work and has no outputs worth costing; ONNX
    // requires `hidden_size` ≥ 1 in practice (R is `[dirs, gates·H, H]`), so say which
    // field made it zero rather than pricing an empty recurrence.
    if h == 0 {
        return Err(match n.attr("hidden_size") {
            Some(_) => NodeErr::attr("hidden_size", "must be at least 1, got 0"),
            None => NodeErr::msg(format!(
                "hidden size read from R {:?} is 0; expected at least 1",
                r.shape
            )),
        });
    }
    if w.shape[0] != dirs {
        return Err(NodeErr::msg(format!(
            "W {:?} has {} directions, attribute says {dirs}",
            w.shape, w.shape[0]
        )));
    }
    let p = if dq { im.int8_prec() } else { im.prec(x.elem) };
    let spec = RecurrentSpec {
        cell,
        seq_len: seq,
        batch,
        input_size: input,
        hidden_size: h,
        directions: dirs,
    };
    if seq > 0 && batch > 0 && h > 0 && input > 0 {
        im.emit(n.op(), Op::recurrent(&n.name, spec, p))?;
    }
    let (y, yh) = if layout == 0 {
        (vec![seq, dirs, batch, h], vec![dirs, batch, h])
    } else {
        (vec![batch, seq, dirs, h], vec![batch, dirs, h])
    };
    Ok(vec![
        Val::new(y, x.elem),
        Val::new(yh.clone(), x.elem),
        Val::new(yh, x.elem),
    ])
}
