fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cfg = xpusim_systolic::load_config(&args[1]).expect("cfg");
    let topo = xpusim_systolic::load_topology(&args[2]).expect("topo");
    for l in &topo {
        let r = xpusim_systolic::simulate_layer(&cfg, l);
        println!("{}", serde_json::to_string(&r).expect("json"));
    }
}
