//! The importer: walks a graph in order, infers every tensor, folds constants and emits IR.

use std::collections::{BTreeMap, HashMap};

use prost::Message;
use xpusim_ir::{DType, Graph, IrError, Op, Phase, Precision};

use crate::error::{NResult, NodeErr, OnnxError};
use crate::node::Node;
use crate::proto::{DimValue, GraphProto, ModelProto, ValueInfoProto};
use crate::value::{check_shape, dtype_of, elem, tensor_val, Val};
use crate::{Import, OnnxOptions};

/// Name → value scope; subgraphs see a copy of the enclosing scope (onnx IR spec, "Names
/// Within a Graph": outer-scope names are visible in nested subgraphs).
pub(crate) type Env = HashMap<String, Val>;

/// Deepest nesting of If/Loop/Scan bodies accepted.
const MAX_DEPTH: usize = 16;

pub(crate) struct Importer<'o> {
    pub file: String,
    pub opts: &'o OnnxOptions,
    pub opsets: BTreeMap<String, i64>,
    pub graph: Graph,
    /// ONNX op_type that produced each IR op, parallel to `graph.ops`.
    pub op_types: Vec<String>,
    /// IR op count after each top-level node: node `i` emitted ops `ends[i-1]..ends[i]`
    /// (kept per node rather than per op because If/Loop/Scan splice op lists).
    pub ends: Vec<usize>,
    pub warnings: Vec<String>,
    /// When true (all inputs of the current node are constants), emitted ops are dropped.
    pub suppress: bool,
    pub depth: usize,
    /// `XPUSIM_ONNX_TRACE` set: print every node's input and output shapes to stderr.
    pub trace: bool,
}

pub(crate) fn import(
    name: &str,
    bytes: prost::bytes::Bytes,
    opts: &OnnxOptions,
) -> Result<Import, OnnxError> {
    let model = ModelProto::decode(bytes).map_err(|e| OnnxError::Decode {
        file: name.to_string(),
        msg: e.to_string(),
    })?;
    let g = model.graph.as_ref().ok_or_else(|| OnnxError::Decode {
        file: name.to_string(),
        msg: "model has no graph".into(),
    })?;
    let mut opsets = BTreeMap::new();
    for o in &model.opset_import {
        let d = if o.domain == "ai.onnx" {
            String::new()
        } else {
            o.domain.clone()
        };
        opsets.insert(d, o.version);
    }
    let gname = std::path::Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.to_string());
    let mut im = Importer {
        file: name.to_string(),
        opts,
        opsets,
        graph: Graph::new(&gname, Phase::Inference, 1, 1),
        op_types: Vec::new(),
        ends: Vec::new(),
        warnings: Vec::new(),
        suppress: false,
        depth: 0,
        trace: std::env::var_os("XPUSIM_ONNX_TRACE").is_some(),
    };
    let mut env = Env::new();
    let inits: std::collections::HashSet<&str> =
        g.initializer.iter().map(|t| t.name.as_str()).collect();
    let mut batch = None;
    for vi in &g.input {
        if inits.contains(vi.name.as_str()) {
            continue; // old IR: initializers listed as graph inputs
        }
        let v = im.input_val(vi)?;
        check_shape(&format!("input `{}`", vi.name), &v.shape)
            .map_err(|e| e.into_onnx(&im.file, &vi.name, "graph input"))?;
        // A zero-sized input makes every op on it empty: the model would price to no work
        // and report a latency of ~1e-308 s. An empty tensor is legal ONNX (onnx IR spec,
        // "Tensor shapes": a dimension may be 0), but it is never a workload to cost.
        if let Some(axis) = v.shape.iter().position(|&d| d == 0) {
            return Err(OnnxError::Model {
                file: im.file.clone(),
                msg: format!(
                    "graph input `{}` has size 0 on axis {axis} (shape {:?}); every dimension must be at least 1 (set it with --dim NAME=N or --input {}=…)",
                    vi.name, v.shape, vi.name
                ),
            });
        }
        if batch.is_none() {
            batch = Some(if v.rank() >= 2 && v.sym.is_none() {
                v.shape[0].max(1)
            } else {
                1
            });
        }
        env.insert(vi.name.clone(), v);
    }
    // A binding that names nothing in the model would be silently ignored, and the user
    // would believe the model ran at the size they asked for.
    let fed: Vec<&str> = g
        .input
        .iter()
        .filter(|vi| !inits.contains(vi.name.as_str()))
        .map(|vi| vi.name.as_str())
        .collect();
    for k in opts.inputs.keys() {
        if !fed.contains(&k.as_str()) {
            return Err(OnnxError::Model {
                file: im.file.clone(),
                msg: format!(
                    "--input `{k}`: the model has no input of that name (its inputs: {})",
                    fed.join(", ")
                ),
            });
        }
    }
    let params: std::collections::BTreeSet<&str> = g
        .input
        .iter()
        .chain(&g.output)
        .filter_map(|vi| vi.r#type.as_ref()?.tensor_type.as_ref()?.shape.as_ref())
        .flat_map(|s| &s.dim)
        .filter_map(|d| match &d.value {
            Some(DimValue::DimParam(p)) => Some(p.as_str()),
            _ => None,
        })
        .collect();
    for k in opts.dims.keys() {
        if !params.contains(k.as_str()) {
            let known: Vec<&str> = params.iter().copied().collect();
            return Err(OnnxError::Model {
                file: im.file.clone(),
                msg: format!(
                    "--dim `{k}`: the model has no symbolic dimension of that name ({})",
                    if known.is_empty() {
                        "it has none: every input shape is fixed".to_string()
                    } else {
                        format!("its symbolic dimensions: {}", known.join(", "))
                    }
                ),
            });
        }
    }
    im.graph.batch = batch.unwrap_or(1);
    im.run_graph(g, &mut env)?;
    // A model that prices to no work would report a latency of ~1e-308 s and a throughput of
    // ~1e307/s downstream; say why instead.
    if im.graph.ops.is_empty() {
        return Err(OnnxError::Model {
            file: im.file.clone(),
            msg: format!(
                "graph has no operators to cost ({} nodes, all constant-folded, shape-only or on empty tensors)",
                g.node.len()
            ),
        });
    }
    if im
        .graph
        .ops
        .iter()
        .all(|o| o.flops() == 0 && o.macs() == 0 && o.bytes_total() == 0)
    {
        return Err(OnnxError::Model {
            file: im.file.clone(),
            msg: format!(
                "graph's {} operators do no work (every tensor they touch is empty); nothing to cost",
                im.graph.ops.len()
            ),
        });
    }
    let mut shapes = BTreeMap::new();
    for (k, v) in &env {
        if v.sym.is_none() {
            shapes.insert(k.clone(), v.shape.clone());
        }
    }
    for vi in &g.output {
        match env.get(&vi.name) {
            None => {
                return Err(OnnxError::Model {
                    file: im.file.clone(),
                    msg: format!("graph output `{}` is produced by no node", vi.name),
                })
            }
            Some(v) => im.check_declared(vi, v),
        }
    }
    if !opts.no_fusion {
        im.graph.fuse_conv_epilogues();
    }
    crate::roles::infer(g, &env, &mut im.graph, &im.ends);
    Ok(Import {
        graph: im.graph,
        op_types: im.op_types,
        shapes,
        warnings: im.warnings,
    })
}

/// Prefix marking an unnamed symbolic dimension (followed by its axis) in
/// [`OnnxError::UnresolvedDim`].
pub(crate) const UNNAMED_DIM: &str = "?axis";

impl<'o> Importer<'o> {
    /// A graph input's value: `--input` shape, else the declared shape with `--dim`
    /// bindings; an unbound symbolic dim is remembered and reported by its first consumer.
    fn input_val(&mut self, vi: &ValueInfoProto) -> Result<Val, OnnxError> {
        let tt = vi.r#type.as_ref().and_then(|t| t.tensor_type.as_ref());
        let el = tt.map(|t| t.elem_type).unwrap_or(elem::FLOAT);
        if let Some(s) = self.opts.inputs.get(&vi.name) {
            return Ok(Val::new(s.clone(), el));
        }
        let mut v = Val::new(Vec::new(), el);
        if let Some(shape) = tt.and_then(|t| t.shape.as_ref()) {
            for (axis, d) in shape.dim.iter().enumerate() {
                match &d.value {
                    Some(DimValue::DimValue(x)) if *x >= 0 => v.shape.push(*x as u64),
                    Some(DimValue::DimParam(p)) if self.opts.dims.contains_key(p) => {
                        v.shape.push(self.opts.dims[p])
                    }
                    other => {
                        // An unnamed dimension has no --dim name: it is marked by its axis
                        // so the error can offer the --input line instead.
                        let p = match other {
                            Some(DimValue::DimParam(p)) if !p.is_empty() => p.clone(),
                            _ => format!("{UNNAMED_DIM}{axis}"),
                        };
                        if v.sym.is_none() {
                            v.sym = Some(p);
                        }
                        v.shape.push(1);
                    }
                }
            }
        }
        Ok(v)
    }

    /// Compares a declared output shape with the inferred one; inference wins.
    fn check_declared(&mut self, vi: &ValueInfoProto, v: &Val) {
        let Some(shape) = vi
            .r#type
            .as_ref()
            .and_then(|t| t.tensor_type.as_ref())
            .and_then(|t| t.shape.as_ref())
        else {
            return;
        };
        let mut mismatch = shape.dim.len() != v.rank();
        for (d, &got) in shape.dim.iter().zip(&v.shape) {
            match &d.value {
                Some(DimValue::DimValue(x)) if *x as u64 != got => mismatch = true,
                Some(DimValue::DimParam(p)) => {
                    if let Some(&b) = self.opts.dims.get(p) {
                        if b != got {
                            mismatch = true;
                        }
                    }
                }
                _ => {}
            }
        }
        if mismatch {
            let decl: Vec<String> = shape
                .dim
                .iter()
                .map(|d| match &d.value {
                    Some(DimValue::DimValue(x)) => x.to_string(),
                    Some(DimValue::DimParam(p)) => p.clone(),
                    None => "?".into(),
                })
                .collect();
            self.warnings.push(format!(
                "output `{}`: declared shape [{}] disagrees with inferred {:?}; using the inferred shape",
                vi.name,
                decl.join(","),
                v.shape
            ));
        }
    }

    /// Declares a parameter tensor (float or narrow-integer initializers; index and shape
    /// tensors are not parameters).
    fn declare_weight(&mut self, name: &str, v: &Val) {
        let el = v.elem;
        if matches!(
            el,
            elem::INT64 | elem::INT32 | elem::BOOL | elem::STRING | elem::UINT64 | elem::UINT32
        ) || v.shape.contains(&0)
        {
            return;
        }
        let mut dt = dtype_of(el);
        if let Some(p) = self.opts.precision {
            if !elem::is_int(el) {
                dt = p.weight;
            }
        }
        if let Err(e) = self.graph.weight(name, &v.shape, dt, 1) {
            self.warnings
                .push(format!("initializer `{name}` not counted: {e}"));
        }
    }

    /// Imports the nodes of `g` into the current IR graph, extending `env`.
    pub fn run_graph(&mut self, g: &GraphProto, env: &mut Env) -> Result<(), OnnxError> {
        if self.depth > MAX_DEPTH {
            return Err(OnnxError::Model {
                file: self.file.clone(),
                msg: format!("subgraphs nested deeper than {MAX_DEPTH}"),
            });
        }
        for t in &g.initializer {
            let v = tensor_val(t).map_err(|e| e.into_onnx(&self.file, &t.name, "initializer"))?;
            self.declare_weight(&t.name, &v);
            env.insert(t.name.clone(), v);
        }
        for np in &g.node {
            let name = if np.name.is_empty() {
                format!(
                    "{}({})",
                    np.op_type,
                    np.output.first().cloned().unwrap_or_default()
                )
            } else {
                np.name.clone()
            };
            let mut ins = Vec::with_capacity(np.input.len());
            let mut all_konst = true;
            for i in &np.input {
                if i.is_empty() {
                    ins.push(None);
                    continue;
                }
                let v = env.get(i).ok_or_else(|| OnnxError::Node {
                    file: self.file.clone(),
                    node: name.clone(),
                    op_type: np.op_type.clone(),
                    msg: format!("input `{i}` is not produced by any earlier node, initializer or graph input"),
                })?;
                if let Some(d) = &v.sym {
                    return Err(NodeErr::Unresolved {
                        input: i.clone(),
                        dim: d.clone(),
                    }
                    .into_onnx(&self.file, &name, &np.op_type));
                }
                all_konst &= v.konst;
                ins.push(Some(v.clone()));
            }
            let domain = if np.domain == "ai.onnx" {
                ""
            } else {
                np.domain.as_str()
            };
            let opset = self
                .opsets
                .get(domain)
                .copied()
                .unwrap_or(if domain.is_empty() {
                    self.opsets.get("").copied().unwrap_or(13)
                } else {
                    1
                });
            let node = Node {
                p: np,
                ins,
                opset,
                name: name.clone(),
            };
            let control = matches!(np.op_type.as_str(), "If" | "Loop" | "Scan");
            let mark = self.graph.ops.len();
            let saved = self.suppress;
            if !control && all_konst {
                self.suppress = true;
            }
            let res = crate::ops::infer(self, &node, env);
            self.suppress = saved;
            let mut outs = res.map_err(|e| e.into_onnx(&self.file, &name, &np.op_type))?;
            for (i, o) in outs.iter().enumerate() {
                check_shape(&format!("output #{i}"), &o.shape)
                    .map_err(|e| e.into_onnx(&self.file, &name, &np.op_type))?;
            }
            if matches!(np.op_type.as_str(), "Constant" | "ConstantOfShape") && all_konst {
                // Weights stored as Constant nodes, or as ConstantOfShape placeholders in
                // stripped zoo models, are parameters like initializers.
                if let (Some(v), Some(o)) = (outs.first(), np.output.first()) {
                    if !elem::is_int(v.elem) && v.elems_sat() > 16 {
                        let v = v.clone();
                        self.declare_weight(o, &v);
                    }
                }
            }
            if !control {
                if all_konst {
                    for o in &mut outs {
                        o.konst = true;
                    }
                }
                if !outs.is_empty() && outs.iter().all(|o| o.data.is_some()) {
                    self.graph.ops.truncate(mark);
                    self.op_types.truncate(mark);
                }
            }
            if self.trace {
                let ins: Vec<String> = node
                    .ins
                    .iter()
                    .map(|v| format!("{:?}", v.as_ref().map(|v| &v.shape)))
                    .collect();
                let os: Vec<String> = outs
                    .iter()
                    .map(|v| {
                        format!(
                            "{:?}{}",
                            v.shape,
                            match &v.data {
                                Some(d) if d.len() < 8 => format!("={d:?}"),
                                Some(_) => "=..".into(),
                                None => String::new(),
                            }
                        )
                    })
                    .collect();
                eprintln!("{} [{}] {:?} -> {:?}", np.op_type, name, ins, os);
            }
            for (i, o) in np.output.iter().enumerate() {
                if o.is_empty() {
                    continue;
                }
                match outs.get(i) {
                    Some(v) => {
                        env.insert(o.clone(), v.clone());
                    }
                    None => {
                        if i == 0 {
                            return Err(OnnxError::Node {
                                file: self.file.clone(),
                                node: name.clone(),
                                op_type: np.op_type.clone(),
                                msg: format!("output #{i} `{o}` could not be inferred"),
                            });
                        }
                    }
                }
            }
            if self.depth == 0 {
                self.ends.push(self.graph.ops.len());
            }
        }
        Ok(())
    }

    /// Appends an IR op (unless the node is a pure-constant computation).
    pub fn emit(&mut self, op_type: &str, op: Result<Op, IrError>) -> NResult<()> {
        let op = op?;
        if self.suppress {
            return Ok(());
        }
        self.graph.push(op);
        self.op_types.push(op_type.to_string());
        Ok(())
    }

    /// Precision of ops over `elem` tensors (the option, else the tensor's own format).
    pub fn prec(&self, el: i32) -> Precision {
        self.opts.precision.unwrap_or_else(|| {
            let d = if elem::is_int(el) && !matches!(el, elem::INT8 | elem::UINT8) {
                DType::Fp32
            } else {
                dtype_of(el)
            };
            Precision::uniform(d)
        })
    }

    /// Precision of quantized (int8) contractions.
    pub fn int8_prec(&self) -> Precision {
        self.opts
            .precision
            .unwrap_or_else(|| Precision::uniform(DType::Int8))
    }

    pub fn warn(&mut self, node: &Node<'_>, msg: impl AsRef<str>) {
        self.warnings.push(format!(
            "node `{}` ({}): {}",
            node.name,
            node.op(),
            msg.as_ref()
        ));
    }
}
