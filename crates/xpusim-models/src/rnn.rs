//! Recurrent networks: LSTM language model, GNMT-style encoder–decoder, DeepSpeech2.
//!
//! Every recurrent layer is one [`Op::recurrent`] (its time dependence kept); identical
//! layers are one op repeated. Weights follow ONNX layout: `{layer}.w_ih`
//! `[dirs, gates·H, I]`, `{layer}.w_hh` `[dirs, gates·H, H]`, plus one bias `{layer}.b`
//! `[dirs, gates·H]`.

use xpusim_ir::{
    AttentionSpec, ConvSpec, Graph, IrError, LossKind, Op, Phase, RecurrentCell, RecurrentSpec,
    Role,
};

use crate::cnn::{conv_spec_bn, phase, ConvAct, Fmap};
use crate::common::Builder;
use crate::{ModelError, Workload};

/// The output softmax over `rows × classes` logits; in training, the cross-entropy loss
/// takes its place (frameworks fuse the softmax into the loss: log-softmax + NLL).
fn output_softmax(b: &mut Builder, name: &str, rows: u64, classes: u64) -> Result<(), IrError> {
    if b.g.phase == Phase::Train {
        crate::blocks::training_loss(b, LossKind::CrossEntropy, rows, classes, false)
    } else {
        b.push(Op::softmax(name, rows, classes, b.act())?, 1)
    }
}

/// One recurrent layer (all directions), repeated `rep` times.
#[allow(clippy::too_many_arguments)]
pub(crate) fn recurrent(
    b: &mut Builder,
    name: &str,
    cell: RecurrentCell,
    seq: u64,
    batch: u64,
    input: u64,
    hidden: u64,
    dirs: u64,
    rep: u64,
) -> Result<(), IrError> {
    let spec = RecurrentSpec {
        cell,
        seq_len: seq,
        batch,
        input_size: input,
        hidden_size: hidden,
        directions: dirs,
    };
    let op = Op::recurrent(name, spec, b.p)?;
    let gh = cell.gates() * hidden;
    b.g.weight(&format!("{name}.w_ih"), &[dirs, gh, input], b.p.weight, rep)?;
    b.g.weight(
        &format!("{name}.w_hh"),
        &[dirs, gh, hidden],
        b.p.weight,
        rep,
    )?;
    let op = b.with_param(op, &format!("{name}.b"), &[dirs, gh], rep)?;
    // Each recurrent layer (group) is a stage of the model's stack.
    b.begin_layer();
    b.push(op, rep)?;
    b.end_layer();
    Ok(())
}

/// Word-level LSTM language model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LstmLmConfig {
    pub vocab: u64,
    pub embed: u64,
    pub hidden: u64,
    pub layers: u64,
}

/// Zaremba, Sutskever & Vinyals 2014 (arXiv:1409.2329) "large" PTB model: 2 layers of
/// 1500 LSTM units, 10 k-word vocabulary, 35 unrolled steps; 66 M parameters (§4.1).
pub const ZAREMBA_LARGE: LstmLmConfig = LstmLmConfig {
    vocab: 10_000,
    embed: 1500,
    hidden: 1500,
    layers: 2,
};

/// Scores `seq_len` tokens per sequence (the softmax runs on every position).
pub fn lstm_lm(name: &str, c: &LstmLmConfig, w: &Workload) -> Result<Graph, ModelError> {
    let wide = c.vocab.max(4 * c.hidden).max(c.embed);
    crate::guard(name, "batch·seq·widest row", &[w.batch, w.seq_len, wide])?;
    let t = w.batch * w.seq_len;
    let mut b = Builder::new(Graph::new(name, phase(w), w.batch, w.seq_len), w.precision);
    b.embedding("embed", "embed.tokens", t, c.vocab, c.embed)?;
    recurrent(
        &mut b,
        "lstm0",
        RecurrentCell::Lstm,
        w.seq_len,
        w.batch,
        c.embed,
        c.hidden,
        1,
        1,
    )?;
    if c.layers > 1 {
        recurrent(
            &mut b,
            "lstmN",
            RecurrentCell::Lstm,
            w.seq_len,
            w.batch,
            c.hidden,
            c.hidden,
            1,
            c.layers - 1,
        )?;
    }
    b.linear("softmax_proj", t, c.hidden, c.vocab, true, 1)?;
    output_softmax(&mut b, "softmax", t, c.vocab)?;
    Ok(b.finish())
}

/// GNMT-style LSTM encoder–decoder with attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GnmtConfig {
    pub vocab: u64,
    pub hidden: u64,
    pub encoder_layers: u64,
    pub decoder_layers: u64,
}

/// Wu et al. 2016 (arXiv:1609.08144) §3–4: 8 encoder and 8 decoder LSTM layers of 1024
/// units, bidirectional bottom encoder layer (directions concatenated), residual
/// connections, attention from the bottom decoder layer fed to every decoder layer,
/// 32 k shared wordpiece vocabulary.
pub const GNMT: GnmtConfig = GnmtConfig {
    vocab: 32_000,
    hidden: 1024,
    encoder_layers: 8,
    decoder_layers: 8,
};

/// Translates `seq_len` source tokens into `seq_len` target tokens (teacher-forced
/// decoder: each decoder layer is costed as one recurrent op over all target steps).
pub fn gnmt(name: &str, c: &GnmtConfig, w: &Workload) -> Result<Graph, ModelError> {
    let wide = c.vocab.max(8 * c.hidden);
    crate::guard(name, "batch·seq·widest row", &[w.batch, w.seq_len, wide])?;
    crate::guard(
        name,
        "batch·target·source·hidden",
        &[w.batch, w.seq_len, w.seq_len, c.hidden],
    )?;
    let (s, n, h) = (w.seq_len, w.batch, c.hidden);
    let t = n * s;
    let mut b = Builder::new(Graph::new(name, phase(w), n, s), w.precision);
    let cell = RecurrentCell::Lstm;
    b.embedding("enc.embed", "enc.embed.tokens", t, c.vocab, h)?;
    recurrent(&mut b, "enc.lstm0_bi", cell, s, n, h, h, 2, 1)?;
    recurrent(&mut b, "enc.lstm1", cell, s, n, 2 * h, h, 1, 1)?;
    if c.encoder_layers > 2 {
        recurrent(
            &mut b,
            "enc.lstmN",
            cell,
            s,
            n,
            h,
            h,
            1,
            c.encoder_layers - 2,
        )?;
        b.eltwise("enc.residual", "add", t * h, 2, 1, c.encoder_layers - 2)?;
    }
    // Normalised Bahdanau attention: keys projected once, queries per step; the score
    // v·tanh(Wk·k + Wq·q) costs as many MACs as a 1024-wide dot product.
    b.linear("dec.attn.key", t, h, h, false, 1)?;
    b.embedding("dec.embed", "dec.embed.tokens", t, c.vocab, h)?;
    b.linear("dec.attn.query", t, h, h, true, 1)?;
    b.eltwise("dec.attn.tanh", "add_tanh", t * s * h, 2, 6, 1)?;
    let spec = AttentionSpec {
        batch: n,
        heads: 1,
        kv_heads: 1,
        q_len: s,
        kv_len: s,
        head_dim: h,
        v_head_dim: h,
        causal: false,
    };
    let op = Op::attention("dec.attn.score", spec, Role::Input, b.p)?;
    let op = b.with_param(op, "dec.attn.v", &[h], 1)?;
    b.push(op, 1)?;
    recurrent(
        &mut b,
        "dec.lstm",
        cell,
        s,
        n,
        2 * h,
        h,
        1,
        c.decoder_layers,
    )?;
    b.eltwise(
        "dec.residual",
        "add",
        t * h,
        2,
        1,
        c.decoder_layers.saturating_sub(2).max(1),
    )?;
    b.linear("dec.softmax_proj", t, h, c.vocab, true, 1)?;
    output_softmax(&mut b, "dec.softmax", t, c.vocab)?;
    Ok(b.finish())
}

/// DeepSpeech2-style acoustic model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeepSpeech2Config {
    /// Spectrogram frequency bins (20 ms windows, 10 ms hop: 161).
    pub freq_bins: u64,
    pub conv_channels: u64,
    pub rnn_layers: u64,
    pub hidden: u64,
    /// Output characters (English: 26 letters, space, apostrophe, blank = 29).
    pub classes: u64,
}

/// Amodei et al. 2016 (arXiv:1512.02595) §3.1–3.5: two 2-D convolutions (32 filters,
/// 41×11 stride 2×2, then 21×11 stride 2×1, Table 4), bidirectional GRU layers whose
/// directions are summed (§3.3, Table 1–2 sweep 1–7 layers; here 5 × 1024), and a
/// character softmax.
pub const DEEPSPEECH2: DeepSpeech2Config = DeepSpeech2Config {
    freq_bins: 161,
    conv_channels: 32,
    rnn_layers: 5,
    hidden: 1024,
    classes: 29,
};

/// `seq_len` is the number of 10 ms input frames.
pub fn deepspeech2(name: &str, c: &DeepSpeech2Config, w: &Workload) -> Result<Graph, ModelError> {
    let wide = (c.conv_channels * c.freq_bins).max(6 * c.hidden);
    crate::guard(name, "batch·frames·widest row", &[w.batch, w.seq_len, wide])?;
    let n = w.batch;
    let mut b = Builder::new(Graph::new(name, phase(w), n, w.seq_len), w.precision);
    let x = Fmap {
        n,
        c: 1,
        h: c.freq_bins,
        w: w.seq_len,
    };
    let conv = |x: Fmap, r: u64, s: u64, sh: u64, sw: u64| ConvSpec {
        n: x.n,
        c: x.c,
        h: x.h,
        w: x.w,
        k: c.conv_channels,
        r,
        s,
        stride: (sh, sw),
        pad: (r / 2, s / 2, r / 2, s / 2),
        dilation: (1, 1),
        groups: 1,
        transposed: false,
    };
    let x = conv_spec_bn(&mut b, "conv1", conv(x, 41, 11, 2, 2), ConvAct::Relu, 1)?;
    let x = conv_spec_bn(&mut b, "conv2", conv(x, 21, 11, 2, 1), ConvAct::Relu, 1)?;
    let steps = x.w;
    let feat = x.c * x.h;
    let cell = RecurrentCell::Gru;
    recurrent(&mut b, "gru0", cell, steps, n, feat, c.hidden, 2, 1)?;
    b.eltwise("gru0.sum_dirs", "add", n * steps * c.hidden, 2, 1, 1)?;
    if c.rnn_layers > 1 {
        let rep = c.rnn_layers - 1;
        recurrent(&mut b, "gruN", cell, steps, n, c.hidden, c.hidden, 2, rep)?;
        b.eltwise("gruN.sum_dirs", "add", n * steps * c.hidden, 2, 1, rep)?;
    }
    b.linear("fc", n * steps, c.hidden, c.classes, true, 1)?;
    // Trained with CTC (§3.1), whose forward–backward recursion over the label lattice is
    // O(frames · label length) per utterance, small beside the frame softmax it reads:
    // the training loss is costed as the cross-entropy over the same frame logits.
    output_softmax(&mut b, "softmax", n * steps, c.classes)?;
    Ok(b.finish())
}
