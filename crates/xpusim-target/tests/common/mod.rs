//! Helpers shared by the target tests: a graph on a device, or on a system with a fixed
//! layout.
#![allow(dead_code)]

use xpusim_hw::{DeviceSpec, System};
use xpusim_ir::Graph;
use xpusim_target::{evaluate, Layout, ModelCost, Parallelism, SystemReport, Target, TargetError};

pub fn on_device(g: &Graph, d: &DeviceSpec) -> Result<ModelCost, TargetError> {
    evaluate(g, &Target::device(d.clone()))
}

/// `g` on `sys` with layout `par`; an error when a device cannot hold its share.
pub fn on_system(
    g: &Graph,
    sys: &System,
    par: &Parallelism,
    overlap_comm: bool,
) -> Result<ModelCost, TargetError> {
    let mut t = Target::system(sys.clone());
    t.layout = Layout::Fixed(*par);
    t.overlap_comm = overlap_comm;
    let c = evaluate(g, &t)?;
    c.check_fits()?;
    Ok(c)
}

pub fn sys(c: &ModelCost) -> &SystemReport {
    c.system.as_ref().expect("a system result")
}
