//! The price of the PIM memory a device owns.

use xpusim_hw::{DeviceSpec, Pim};

use crate::{CostData, CostError};

/// The PIM modules' memory one device owns, priced per GB as the device's off-chip memory
/// generation (AttAcc's and NeuPIMs' PIM stacks are HBM of the host's generation). The
/// processing units on the DRAM dies and buffer dies are not priced: no public cost exists.
/// PIM in the device's own memory (a device's `[pim]`) is already in the chip's memory cost,
/// so it adds nothing.
pub fn pim_memory_usd(dev: &DeviceSpec, pim: &Pim, data: &CostData) -> Result<f64, CostError> {
    if pim.in_device_memory {
        return Ok(0.0);
    }
    let level = &dev.offchip().name;
    let per_gb = data
        .memory_price(level)
        .map(|m| m.usd_per_gb)
        .ok_or_else(|| CostError::UnknownMemory {
            device: dev.name.clone(),
            level: level.clone(),
            known: data.memory.iter().map(|m| m.generation.clone()).collect(),
        })?;
    Ok(pim.capacity_per_device_bytes() as f64 / 1e9 * per_gb)
}
