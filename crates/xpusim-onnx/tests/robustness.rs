//! Never panic on corrupt input: thousands of deterministic random truncations, byte
//! mutations and structural mutations (attribute values, tensor dims, input shapes) of the
//! shared models — the stable-toolchain stand-in for `fuzz/`'s `cargo fuzz run parse`.

mod common;

use std::collections::BTreeMap;

use prost::Message;
use xpusim_onnx::proto::{GraphProto, ModelProto};
use xpusim_onnx::{import_bytes, OnnxOptions};

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn nasty(&mut self) -> i64 {
        const V: [i64; 10] = [0, 1, -1, 2, 3, 7, 1 << 31, 1 << 40, i64::MAX, i64::MIN];
        if self.below(4) == 0 {
            self.next() as i64
        } else {
            V[self.below(V.len())]
        }
    }
}

fn mutate_bytes(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut b = src.to_vec();
    match rng.below(5) {
        0 => b.truncate(rng.below(b.len())),
        1 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
        }
        2 => {
            let i = rng.below(b.len());
            b[i] = [0x00, 0x01, 0x7f, 0x80, 0xff][rng.below(5)];
        }
        3 => {
            let i = rng.below(b.len());
            let n = 1 + rng.below(16);
            b.drain(i..(i + n).min(b.len()));
        }
        _ => {
            let i = rng.below(b.len());
            let extra: Vec<u8> = (0..1 + rng.below(16)).map(|_| rng.next() as u8).collect();
            b.splice(i..i, extra);
        }
    }
    b
}

fn count_graphs(g: &GraphProto) -> usize {
    1 + g
        .node
        .iter()
        .flat_map(|n| &n.attribute)
        .filter_map(|a| a.g.as_ref())
        .map(count_graphs)
        .sum::<usize>()
}

/// The `k`-th graph in depth-first order (0 = top level).
fn nth_graph<'a>(g: &'a mut GraphProto, k: &mut usize) -> Option<&'a mut GraphProto> {
    if *k == 0 {
        return Some(g);
    }
    *k -= 1;
    for n in &mut g.node {
        for a in &mut n.attribute {
            if let Some(sg) = a.g.as_mut() {
                if let Some(r) = nth_graph(sg, k) {
                    return Some(r);
                }
            }
        }
    }
    None
}

fn mutate_structure(rng: &mut Rng, m: &ModelProto) -> ModelProto {
    let mut m = m.clone();
    let Some(root) = m.graph.as_mut() else {
        return m;
    };
    let mut k = rng.below(count_graphs(root));
    let Some(g) = nth_graph(root, &mut k) else {
        return m;
    };
    for _ in 0..1 + rng.below(3) {
        match rng.below(4) {
            0 if !g.node.is_empty() => {
                let i = rng.below(g.node.len());
                let n = &mut g.node[i];
                if !n.attribute.is_empty() {
                    let j = rng.below(n.attribute.len());
                    let a = &mut n.attribute[j];
                    a.i = rng.nasty();
                    if !a.ints.is_empty() {
                        let k = rng.below(a.ints.len());
                        a.ints[k] = rng.nasty();
                    }
                    if rng.below(3) == 0 {
                        a.ints.push(rng.nasty());
                    }
                }
            }
            1 if !g.initializer.is_empty() => {
                let i = rng.below(g.initializer.len());
                let t = &mut g.initializer[i];
                if !t.dims.is_empty() {
                    let k = rng.below(t.dims.len());
                    t.dims[k] = rng.nasty();
                } else {
                    t.dims.push(rng.nasty());
                }
            }
            2 if !g.node.is_empty() => {
                let i = rng.below(g.node.len());
                let n = &mut g.node[i];
                if rng.below(2) == 0 && !n.input.is_empty() {
                    let k = rng.below(n.input.len());
                    n.input.remove(k);
                } else {
                    n.op_type = [
                        "Conv", "MatMul", "Reshape", "If", "Loop", "Einsum", "LSTM", "Slice",
                        "Bogus",
                    ][rng.below(9)]
                    .to_string();
                }
            }
            _ if !g.node.is_empty() => {
                let (i, j) = (rng.below(g.node.len()), rng.below(g.node.len()));
                g.node.swap(i, j);
            }
            _ => {}
        }
    }
    m
}

fn check(name: &str, bytes: &[u8], opts: &OnnxOptions, what: &str) -> bool {
    let r = std::panic::catch_unwind(|| {
        import_bytes(name, bytes, opts)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    match r {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            assert!(!e.contains('\n'), "multi-line error: {e}");
            false
        }
        Err(_) => {
            let out = std::env::temp_dir().join("xpusim_onnx_panic.onnx");
            let _ = std::fs::write(&out, bytes);
            panic!(
                "panic on {what} of {name} (input saved to {}, options {opts:?})",
                out.display()
            );
        }
    }
}

#[test]
fn random_mutations_of_shared_models_never_panic() {
    let Some(dir) = common::models_dir() else {
        println!("skipped: ../shared/models not found");
        return;
    };
    let per_file: usize = std::env::var("XPUSIM_ONNX_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("XPUSIM_ONNX_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let mut rng = Rng(seed | 1);
    let (mut ok, mut total) = (0usize, 0usize);
    let entries = common::manifest(&dir);
    for e in &entries {
        let src = std::fs::read(dir.join(&e.file)).expect("read model");
        let model = ModelProto::decode(src.as_slice()).expect("decode");
        for i in 0..per_file {
            let mut opts = OnnxOptions {
                inputs: e.inputs.clone(),
                ..Default::default()
            };
            let bytes = match i % 3 {
                0 => mutate_bytes(&mut rng, &src),
                1 => mutate_structure(&mut rng, &model).encode_to_vec(),
                _ => {
                    // Unusual input shapes and symbolic-dim bindings.
                    let mut inputs = BTreeMap::new();
                    for (k, v) in &e.inputs {
                        let s: Vec<u64> = v
                            .iter()
                            .map(|&d| match rng.below(4) {
                                0 => rng.nasty() as u64,
                                1 => 0,
                                _ => d,
                            })
                            .collect();
                        inputs.insert(k.clone(), s);
                    }
                    opts.inputs = inputs;
                    opts.strict = rng.below(2) == 0;
                    src.clone()
                }
            };
            total += 1;
            ok += check(&e.file, &bytes, &opts, &format!("mutation {i}")) as usize;
        }
    }
    println!(
        "{total} mutated imports: {ok} succeeded, {} clean errors",
        total - ok
    );
}

/// Rewires node inputs to earlier node outputs of the same shape (the graph stays valid,
/// its dataflow turns odd: skipped blocks, shortcuts, projections feeding norms).
fn rewire(rng: &mut Rng, m: &ModelProto, shapes: &BTreeMap<String, Vec<u64>>) -> ModelProto {
    let mut m = m.clone();
    let Some(g) = m.graph.as_mut() else {
        return m;
    };
    for _ in 0..1 + rng.below(6) {
        let i = rng.below(g.node.len());
        if i == 0 || g.node[i].input.is_empty() {
            continue;
        }
        let k = rng.below(g.node[i].input.len());
        let Some(want) = shapes.get(&g.node[i].input[k]) else {
            continue;
        };
        let same: Vec<String> = g.node[..i]
            .iter()
            .flat_map(|n| n.output.iter())
            .filter(|o| shapes.get(*o) == Some(want))
            .cloned()
            .collect();
        if !same.is_empty() {
            g.node[i].input[k] = same[rng.below(same.len())].clone();
        }
    }
    m
}

#[test]
fn rewired_transformer_fixtures_never_panic_role_inference() {
    let per_file: usize = std::env::var("XPUSIM_ONNX_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut opts = OnnxOptions::default();
    for (k, v) in [("batch", 2), ("past", 16), ("total", 17)] {
        opts.dims.insert(k.to_string(), v);
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let src = std::fs::read(path.join("llama_gqa_kv.onnx")).expect("read fixture");
    let shapes = import_bytes("llama_gqa_kv.onnx", &src, &opts)
        .expect("import")
        .shapes;
    let model = ModelProto::decode(src.as_slice()).expect("decode");
    let mut ok = 0;
    for i in 0..per_file {
        let m = rewire(&mut rng, &model, &shapes);
        let m = if i % 4 == 3 {
            mutate_structure(&mut rng, &m)
        } else {
            m
        };
        let bytes = m.encode_to_vec();
        ok += check("llama_gqa_kv.onnx", &bytes, &opts, &format!("rewiring {i}")) as usize;
    }
    println!("{per_file} rewired imports: {ok} succeeded");
    assert!(ok > per_file / 4, "too few rewired graphs imported: {ok}");
}
