//! Rows on several tensor-parallel devices, costed by `xpusim-system`.
//!
//! The system is the row's `hardware` when that names a system (preset or TOML), else
//! the first system preset built from the row's device with at least `devices` of them
//! (its device replaced by the one the row resolved, so curve overrides apply).

use xpusim_hw::DeviceSpec;
use xpusim_hw::System;
use xpusim_ir::CollectiveKind;

/// The system a `tp` row with `devices > 1` runs on.
pub fn for_row(hw: &str, dev: &DeviceSpec, devices: u64) -> Result<System, String> {
    let mut sys = match xpusim_hw::load_system(hw) {
        Ok(s) => s,
        Err(_) => xpusim_hw::registry::systems()
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|s| s.device.name == dev.name && s.spec.count >= devices)
            .ok_or_else(|| {
                format!(
                    "no system preset with {devices} × {}; give a system preset or TOML as hardware",
                    dev.name
                )
            })?,
    };
    if sys.spec.count < devices {
        return Err(format!(
            "system `{}` has {} devices, the row needs {devices}",
            sys.spec.name, sys.spec.count
        ));
    }
    sys.device = dev.clone();
    Ok(sys)
}

/// A collective kernel spec `allreduce|allgather|reducescatter|alltoall:elems=N` (elements
/// per device), or `None` for any other workload.
pub fn collective_kind(workload: &str) -> Option<CollectiveKind> {
    let kind = workload.split_once(':')?.0.trim();
    Some(match kind {
        "allreduce" => CollectiveKind::AllReduce,
        "allgather" => CollectiveKind::AllGather,
        "reducescatter" => CollectiveKind::ReduceScatter,
        "alltoall" => CollectiveKind::AllToAll,
        _ => return None,
    })
}

/// Time of a collective kernel row over `group` devices of `sys`, `elem_bytes` per element.
pub fn collective_s(
    sys: &System,
    workload: &str,
    kind: CollectiveKind,
    group: u64,
    elem_bytes: u64,
) -> Result<f64, String> {
    let body = workload.split_once(':').map_or("", |x| x.1);
    let elems: u64 = body
        .split(',')
        .find_map(|kv| kv.trim().strip_prefix("elems="))
        .ok_or_else(|| format!("`{workload}` needs `elems=`"))?
        .trim()
        .parse()
        .map_err(|_| format!("`{workload}`: elems must be a whole number"))?;
    let bytes = elems
        .checked_mul(elem_bytes)
        .ok_or_else(|| format!("`{workload}`: size overflows"))?;
    xpusim_system::collective(&sys.spec, kind, bytes, group)
        .map(|c| c.time_s)
        .map_err(|e| e.to_string())
}
