//! xpusim cost: what a chip costs to make and to own, and what a unit of work costs on it.
//!
//! - [`data`]: process nodes (wafer price, defect density D0, density/power/speed factors
//!   versus the previous node), HBM price per GB, CoWoS packaging and test, data-centre
//!   defaults — all in the embedded `data/cost.toml`, each value cited, estimates listed
//!   as unverified.
//! - [`die`]: gross dies per wafer with edge loss; Murphy and negative-binomial yield.
//! - [`chip_cost`]: wafer price / good dies + HBM + packaging + test.
//! - [`tco`]: price (or cost / (1 − margin)) + energy × PUE + hosting per kW over a service
//!   life → $ per hour, per million samples and per million tokens.
//! - [`recost`]: the same design at another node (iso-speed or iso-power).
//! - [`scaled_die_area`]: die area of a design point relative to a base design.
//!
//! Invariants: every number the data file holds is positive and has a citation (checked on
//! load); yield is in (0, 1] and falls with die area; dies per wafer is a whole number;
//! re-costing to the same node is the identity on area, clock and energy.

mod area;
mod chip;
pub mod data;
pub mod die;
mod error;
pub mod pim;
mod recost;
mod tco;

pub use area::{onchip_bytes, scaled_die_area};
pub use chip::{chip_cost, ChipCost, CostOverrides};
pub use data::{builtin, CostData, DieMix, Node, NodeFactors};
pub use die::{dies_per_wafer, YieldModel};
pub use error::CostError;
pub use pim::pim_memory_usd;
pub use recost::{recost, Recosted, Scaling};
pub use tco::{tco, Tco, TcoParams, WorkRate};
