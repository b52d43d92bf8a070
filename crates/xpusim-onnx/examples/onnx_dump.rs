//! Prints the IR ops, warnings and totals of an ONNX model:
//! `cargo run -p xpusim-onnx --example onnx_dump -- model.onnx [NAME=1x3x224x224 | NAME=VALUE ...]`
//! (`NAME=AxB…` sets an input shape, `NAME=N` binds a symbolic dim).

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: onnx_dump MODEL.onnx [NAME=1x3x224x224 | DIM=N]...");
        std::process::exit(2);
    };
    let mut opts = xpusim_onnx::OnnxOptions::default();
    for a in &args[1..] {
        let value = a.split_once('=').map(|(_, v)| v).unwrap_or("");
        let r = if value.contains(['x', 'X', ',']) || value.is_empty() {
            opts.add_input_arg(a)
        } else {
            opts.add_dim_arg(a)
        };
        if let Err(e) = r {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
    match xpusim_onnx::import_file(Path::new(path), &opts) {
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
        Ok(imp) => {
            for (op, t) in imp.graph.ops.iter().zip(&imp.op_types) {
                let layer = op.layer.map(|l| l.to_string()).unwrap_or_default();
                println!(
                    "{:<14} {:<12} {:<18} {:>3} macs={:<12} x{} {}",
                    t,
                    op.kind.family(),
                    op.role.label(),
                    layer,
                    op.macs(),
                    op.repeat,
                    op.name
                );
            }
            for w in &imp.warnings {
                println!("warning: {w}");
            }
            println!("{:?}", imp.graph.totals());
            println!("unknown: {:?}", imp.graph.unknown_ops());
        }
    }
}
