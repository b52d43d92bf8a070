//! The device schema.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use xpusim_ir::DType;

use crate::locate::{
    locate, plausible_non_negative, plausible_positive, render, show, Seg, ABSURD, TINY,
};
use crate::HwError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceClass {
    Gpu,
    Npu,
    Cpu,
    Pim,
}

/// Who shares a memory level: one instance per core, one per chip, or off-chip memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Core,
    Chip,
    Offchip,
}

/// Matrix engines (tensor cores, MXUs, systolic arrays), whole chip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixEngine {
    /// Dense peak per number format, whole chip, in TFLOPS (TOPS for integers); 1 MAC = 2.
    pub peak_tflops: BTreeMap<DType, f64>,
    /// Smallest (m, n, k) block one core's matrix unit processes; operands are padded up
    /// to it (MMA instruction shape on GPUs; array rows × cols on systolic NPUs).
    pub tile: [u64; 3],
    /// Sustained fraction of peak on large, well-shaped GEMMs (clock throttling, issue
    /// and pipeline bubbles the tiling model does not see). Calibrated; see `[sources]`.
    pub efficiency: f64,
    /// The same fraction for number formats that sustain a different share of their own
    /// peak (Hopper's FP8 doubles the 16-bit rate within the same 700 W and operand
    /// bandwidth and reaches less of it), keyed by the format the matrix unit runs; the
    /// others take `efficiency`. Read through [`MatrixEngine::efficiency_for`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub efficiency_by_format: BTreeMap<DType, f64>,
    /// Whether the matrix unit runs beside the core's vector units, so that a fused
    /// kernel's vector work overlaps its matrix work: Hopper's asynchronous warpgroup MMA
    /// (`wgmma`, which FlashAttention-3 ping-pongs against the softmax of another
    /// warpgroup; Shah et al. 2024, §3.1–3.2), TPU MXUs and NPU arrays with their own
    /// vector units. `false` where the same warps issue the MMAs and the softmax
    /// (`mma.sync` on Volta to Ampere): FlashAttention-2's softmax then adds to its matrix
    /// time (Dao 2023, §3.1: non-matmul FLOPs 16× as costly as matmul FLOPs on A100).
    #[serde(default = "overlaps_by_default", skip_serializing_if = "is_true")]
    pub overlaps_vector: bool,
}

fn overlaps_by_default() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

impl MatrixEngine {
    /// Sustained fraction of peak for contractions the matrix unit runs in `d` (the format
    /// [`DeviceSpec::matrix_flops`] resolved).
    pub fn efficiency_for(&self, d: DType) -> f64 {
        self.efficiency_by_format
            .get(&d)
            .copied()
            .unwrap_or(self.efficiency)
    }
}

/// SIMD / vector units, whole chip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorUnit {
    pub peak_tflops: BTreeMap<DType, f64>,
    /// Results per clock per core of the special-function units that evaluate the
    /// transcendentals (exp2, log2, reciprocal, rsqrt, sin, cos: NVIDIA's SFU/MUFU; CUDA C
    /// Programming Guide, "Throughput of Native Arithmetic Instructions"). Absent: a
    /// transcendental costs what any vector FLOP costs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sfu_per_clock: Option<f64>,
}

/// One level of the memory hierarchy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryLevel {
    pub name: String,
    pub scope: Scope,
    /// Capacity of ONE instance (per core for `core` scope).
    pub capacity_bytes: u64,
    /// Aggregate read bandwidth over all instances, GB/s (1e9 B/s).
    pub bandwidth_gbps: f64,
    /// Sustained fraction of `bandwidth_gbps` a streaming kernel reaches.
    pub efficiency: f64,
    /// Access latency, ns (first byte of a dependent access).
    pub latency_ns: f64,
    /// Energy per byte moved to or from this level, pJ.
    pub energy_pj_per_byte: f64,
    /// The compiler keeps a whole model (weights, activations, KV cache) in this on-chip
    /// level when it fits, so the levels beyond it are not used: SRAM-only dataflow chips
    /// (Groq TSP, Cerebras WSE) work this way. At most one level; not the off-chip one.
    #[serde(default)]
    pub holds_model: bool,
    /// Energy per byte written to this level, pJ, where it differs from
    /// `energy_pj_per_byte` (which is then the read energy). Absent: the same. Read by the
    /// mapping search (`[array]` devices); the engine charges `energy_pj_per_byte`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_energy_pj_per_byte: Option<f64>,
    /// Leakage of ONE instance (per core for `core` scope), mW. Absent: the mapping search
    /// derives SRAM leakage from the capacity and `process_node_nm` (0 off-chip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leakage_mw: Option<f64>,
    /// Area of ONE instance, mm². Absent: the mapping search derives SRAM area from the
    /// capacity and `process_node_nm` (0 off-chip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_mm2: Option<f64>,
}

impl MemoryLevel {
    /// Sustained bandwidth in bytes/s.
    pub fn sustained_bps(&self) -> f64 {
        self.bandwidth_gbps * 1e9 * self.efficiency
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overhead {
    /// Fixed cost per kernel launch / dispatch, µs.
    pub launch_us: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Power {
    pub tdp_w: f64,
    /// Static + idle power drawn whenever the device is on, W.
    pub idle_w: f64,
    /// How the dynamic energy of one core-side action (a MAC, a vector FLOP, an on-chip
    /// byte) falls when the power limit lowers the core clock to a fraction `f` of its
    /// maximum: it scales as `f^dvfs_energy_exponent`. Absent:
    /// [`Power::DEFAULT_DVFS_ENERGY_EXPONENT`]. 0 = no voltage scaling (the clock drops,
    /// energy per action does not). See `xpusim_engine::energy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dvfs_energy_exponent: Option<f64>,
}

impl Power {
    /// CMOS switching energy per action is `C·V²`, and along a chip's DVFS curve the supply
    /// voltage falls about in proportion to the clock (Weste & Harris, *CMOS VLSI Design*,
    /// 4th ed., §5.2 and §5.4.2: `P_dyn = α·C·V²·f`, voltage scaled with frequency), so
    /// energy per action goes as `f²` and power as `f³`. Real V–f curves have an offset and
    /// a floor, so 2 is the upper end of the saving; a device file with a measured curve
    /// sets its own exponent.
    pub const DEFAULT_DVFS_ENERGY_EXPONENT: f64 = 2.0;

    /// The exponent in effect ([`Power::dvfs_energy_exponent`] or the default).
    pub fn dvfs_energy_exponent(&self) -> f64 {
        self.dvfs_energy_exponent
            .unwrap_or(Self::DEFAULT_DVFS_ENERGY_EXPONENT)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Energy {
    /// Dynamic energy per MAC on the matrix engines by compute format, pJ.
    pub mac_pj: BTreeMap<DType, f64>,
    /// Dynamic energy per vector FLOP, pJ.
    pub vector_flop_pj: f64,
}

/// Scale-up link of one device (NVLink, ICI, Infinity Fabric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interconnect {
    pub name: String,
    /// Per-direction bandwidth of one device into the fabric, GB/s.
    pub bandwidth_gbps: f64,
    pub latency_us: f64,
}

/// A device spec, as written in a TOML file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSpec {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub display_name: String,
    pub vendor: String,
    pub class: DeviceClass,
    /// The 16-bit format the chip runs by default (bf16 on current GPUs/TPUs).
    pub natural_dtype: DType,
    pub clock_ghz: f64,
    /// Independent cores (SMs, CUs, TensorCores, NPU cores) that tiles are spread over.
    pub cores: u64,
    /// Cores that share one fetch of an operand tile from the chip-level buffer (Hopper
    /// thread-block clusters with TMA multicast: GEMM kernels pair 2 CTAs). 1 = none.
    #[serde(default = "one")]
    pub core_cluster: u64,
    pub process_node_nm: Option<f64>,
    pub die_area_mm2: Option<f64>,
    pub price_usd: Option<f64>,
    pub matrix: MatrixEngine,
    pub vector: VectorUnit,
    /// Innermost (closest to compute) first; the last is off-chip.
    pub memory: Vec<MemoryLevel>,
    pub overhead: Overhead,
    pub power: Power,
    /// A power cap below TDP, W, as deployments and power-efficiency benchmark submissions
    /// set one (`nvidia-smi -pl`): the device's dynamic power budget becomes
    /// `power_cap_w − idle_w` ([`DeviceSpec::power_limit_w`]). Absent: TDP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_cap_w: Option<f64>,
    pub energy: Energy,
    pub interconnect: Option<Interconnect>,
    /// Citation per field path (e.g. `"matrix.peak_tflops"`).
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
    /// Field paths whose values are estimates or not confirmed by a primary source.
    #[serde(default)]
    pub unverified: Vec<String>,
    /// Measured achievable-efficiency curves per op family (see [`crate::calibration`]);
    /// empty = the analytical model alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calibration: Vec<crate::CalibrationCurve>,
    /// Native op families and formats, and the host that runs the rest (see
    /// [`crate::support`]); absent = everything native.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<crate::Support>,
    /// The PE array(s) of one core with per-action energy and area, for the mapping search
    /// (see [`crate::ArraySpec`]); absent = the device is costed by the analytical engine only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array: Option<crate::ArraySpec>,
    /// Processing in memory in one of the device's memory levels (see
    /// [`crate::pim::MemoryPim`]); absent = plain memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pim: Option<crate::pim::MemoryPim>,
}

fn one() -> u64 {
    1
}

impl DeviceSpec {
    /// Parses and validates TOML text. `file` is used in messages only.
    pub fn from_toml(file: &str, src: &str) -> Result<DeviceSpec, HwError> {
        let mut spec: DeviceSpec = crate::locate::parse(file, src)?;
        spec.validate(file, src)?;
        spec.resolve_pim(file, src)?;
        Ok(spec)
    }

    /// Inlines the PIM memory a `[pim]` section names and checks its stacks fit the level.
    fn resolve_pim(&mut self, file: &str, src: &str) -> Result<(), HwError> {
        let Some(p) = &mut self.pim else {
            return Ok(());
        };
        let f = crate::locate::Fields { file, src };
        let spec = match &p.device {
            crate::Component::Named(n) => crate::registry::load_pim(n)
                .map_err(|e| f.bad(&[Seg::Key("pim"), Seg::Key("device")], e.to_string()))?,
            crate::Component::Inline(s) => {
                let text = toml::to_string(s.as_ref()).unwrap_or_default();
                s.validate(&format!("{file} [pim.device]"), &text)?;
                s.as_ref().clone()
            }
        };
        let level = self
            .memory
            .iter()
            .find(|m| m.name == p.memory)
            .map_or(0, |m| m.capacity_bytes);
        let pim_bytes = spec.organization.capacity_bytes.saturating_mul(p.stacks);
        if pim_bytes > level {
            return Err(f.bad(
                &[Seg::Key("pim"), Seg::Key("stacks")],
                format!(
                    "{} stacks of {} hold {pim_bytes} B, more than the `{}` level's {level} B",
                    p.stacks, spec.name, p.memory
                ),
            ));
        }
        p.device = crate::Component::Inline(Box::new(spec));
        Ok(())
    }

    /// Checks every number the engine divides by or multiplies with.
    pub fn validate(&self, file: &str, src: &str) -> Result<(), HwError> {
        let bad = |path: &[Seg<'_>], msg: String| HwError::Invalid {
            file: file.to_string(),
            line: locate(src, path),
            field: render(path),
            msg,
        };
        let pos = |path: &[Seg<'_>], v: f64| -> Result<(), HwError> {
            if !plausible_positive(v) {
                return Err(bad(
                    path,
                    format!(
                        "expected a positive number from {TINY:e} to {ABSURD:e}, got {}",
                        show(v)
                    ),
                ));
            }
            Ok(())
        };
        let nonneg = |path: &[Seg<'_>], v: f64| -> Result<(), HwError> {
            if !plausible_non_negative(v) {
                return Err(bad(
                    path,
                    format!("expected a number from 0 to {ABSURD:e}, got {}", show(v)),
                ));
            }
            Ok(())
        };
        let frac = |path: &[Seg<'_>], v: f64| -> Result<(), HwError> {
            if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                return Err(bad(
                    path,
                    format!("expected a fraction in (0, 1], got {}", show(v)),
                ));
            }
            Ok(())
        };
        use Seg::{Idx, Key};
        pos(&[Key("clock_ghz")], self.clock_ghz)?;
        pos(&[Key("cores")], self.cores as f64)?;
        if self.core_cluster == 0 || self.core_cluster > self.cores {
            return Err(bad(
                &[Key("core_cluster")],
                format!(
                    "expected 1 ≤ core_cluster ≤ cores ({}), got {}",
                    self.cores, self.core_cluster
                ),
            ));
        }
        if self.matrix.peak_tflops.is_empty() {
            return Err(bad(
                &[Key("matrix"), Key("peak_tflops")],
                "expected at least one number format".into(),
            ));
        }
        for (d, v) in &self.matrix.peak_tflops {
            pos(&[Key("matrix"), Key("peak_tflops"), Key(d.name())], *v)?;
        }
        if !self.matrix.peak_tflops.contains_key(&self.natural_dtype) {
            return Err(bad(
                &[Key("natural_dtype")],
                format!(
                    "`{}` has no entry in matrix.peak_tflops",
                    self.natural_dtype
                ),
            ));
        }
        for (i, t) in self.matrix.tile.iter().enumerate() {
            pos(&[Key("matrix"), Key("tile"), Idx(i)], *t as f64)?;
        }
        frac(&[Key("matrix"), Key("efficiency")], self.matrix.efficiency)?;
        for (d, v) in &self.matrix.efficiency_by_format {
            let at = [Key("matrix"), Key("efficiency_by_format"), Key(d.name())];
            frac(&at, *v)?;
            if !self.matrix.peak_tflops.contains_key(d) {
                return Err(bad(
                    &at,
                    format!("`{d}` has no entry in matrix.peak_tflops, so no matrix rate to scale"),
                ));
            }
        }
        for (d, v) in &self.vector.peak_tflops {
            pos(&[Key("vector"), Key("peak_tflops"), Key(d.name())], *v)?;
        }
        if let Some(v) = self.vector.sfu_per_clock {
            pos(&[Key("vector"), Key("sfu_per_clock")], v)?;
        }
        if !self.vector.peak_tflops.contains_key(&DType::Fp32) {
            return Err(bad(
                &[Key("vector"), Key("peak_tflops")],
                "expected an `fp32` entry (the fallback for every vector op)".into(),
            ));
        }
        if self.memory.is_empty() {
            return Err(bad(
                &[Key("memory")],
                "expected at least one memory level".into(),
            ));
        }
        for (i, m) in self.memory.iter().enumerate() {
            let at = |f| [Key("memory"), Idx(i), Key(f)];
            pos(&at("capacity_bytes"), m.capacity_bytes as f64)?;
            pos(&at("bandwidth_gbps"), m.bandwidth_gbps)?;
            frac(&at("efficiency"), m.efficiency)?;
            nonneg(&at("latency_ns"), m.latency_ns)?;
            nonneg(&at("energy_pj_per_byte"), m.energy_pj_per_byte)?;
            for (f, v) in [
                ("write_energy_pj_per_byte", m.write_energy_pj_per_byte),
                ("leakage_mw", m.leakage_mw),
                ("area_mm2", m.area_mm2),
            ] {
                if let Some(v) = v {
                    nonneg(&at(f), v)?;
                }
            }
            let last = i + 1 == self.memory.len();
            if m.holds_model && last {
                return Err(bad(
                    &at("holds_model"),
                    "the off-chip level always holds the model; mark an on-chip level".into(),
                ));
            }
            if last != (m.scope == Scope::Offchip) {
                return Err(bad(
                    &at("scope"),
                    "the last memory level, and only it, must have scope = \"offchip\"".into(),
                ));
            }
        }
        if self.memory.iter().filter(|m| m.holds_model).count() > 1 {
            return Err(bad(
                &[Key("memory")],
                "at most one memory level may set holds_model".into(),
            ));
        }
        nonneg(
            &[Key("overhead"), Key("launch_us")],
            self.overhead.launch_us,
        )?;
        // Cost inputs: a negative, NaN or infinite price or area would print as a cost.
        for (f, v) in [
            ("process_node_nm", self.process_node_nm),
            ("die_area_mm2", self.die_area_mm2),
            ("price_usd", self.price_usd),
        ] {
            if let Some(v) = v {
                pos(&[Key(f)], v)?;
            }
        }
        pos(&[Key("power"), Key("tdp_w")], self.power.tdp_w)?;
        if !(self.power.idle_w.is_finite()
            && self.power.idle_w >= 0.0
            && self.power.idle_w <= self.power.tdp_w)
        {
            return Err(bad(
                &[Key("power"), Key("idle_w")],
                format!(
                    "expected 0 ≤ idle_w ≤ tdp_w ({}), got {}",
                    self.power.tdp_w, self.power.idle_w
                ),
            ));
        }
        if let Some(x) = self.power.dvfs_energy_exponent {
            if !(x.is_finite() && x >= 0.0) {
                return Err(bad(
                    &[Key("power"), Key("dvfs_energy_exponent")],
                    format!("expected a finite exponent ≥ 0 (0 = no voltage scaling), got {x}"),
                ));
            }
        }
        if let Some(cap) = self.power_cap_w {
            if let Err(msg) = check_power_cap(cap, &self.power) {
                return Err(bad(&[Key("power_cap_w")], msg));
            }
        }
        for (d, v) in &self.energy.mac_pj {
            pos(&[Key("energy"), Key("mac_pj"), Key(d.name())], *v)?;
        }
        pos(
            &[Key("energy"), Key("vector_flop_pj")],
            self.energy.vector_flop_pj,
        )?;
        if let Some(ic) = &self.interconnect {
            pos(
                &[Key("interconnect"), Key("bandwidth_gbps")],
                ic.bandwidth_gbps,
            )?;
        }
        for (i, c) in self.calibration.iter().enumerate() {
            if !c.fixed_ok() {
                return Err(bad(
                    &[Key("calibration"), Idx(i), Key("fixed_us")],
                    format!("fixed_us {:?} must be finite and >= 0", c.fixed_us),
                ));
            }
            if let Err((j, msg)) = c.check() {
                return Err(bad(
                    &[Key("calibration"), Idx(i), Key("points"), Idx(j)],
                    msg,
                ));
            }
            if let Err((field, msg)) = c.rows_ok() {
                return Err(bad(&[Key("calibration"), Idx(i), Key(field)], msg));
            }
            if self.calibration[..i]
                .iter()
                .any(|p| p.family == c.family && p.op == c.op)
            {
                return Err(bad(
                    &[Key("calibration"), Idx(i), Key("family")],
                    format!(
                        "a second curve for family `{}`{}",
                        c.family.name(),
                        c.op.as_ref()
                            .map_or(String::new(), |o| format!(", op `{o}`"))
                    ),
                ));
            }
        }
        if let Some(Err((field, msg))) = self.support.as_ref().map(|s| s.check()) {
            return Err(bad(&[Key("support"), Key(&field)], msg));
        }
        if let Some(a) = &self.array {
            a.check(self, &crate::locate::Fields { file, src })?;
        }
        if let Some(p) = &self.pim {
            let off = self.memory.last().map(|m| m.name.as_str());
            if Some(p.memory.as_str()) != off {
                return Err(bad(
                    &[Key("pim"), Key("memory")],
                    format!(
                        "PIM computes in the off-chip DRAM: expected `{}`, got `{}`",
                        off.unwrap_or(""),
                        p.memory
                    ),
                ));
            }
            if p.stacks == 0 {
                return Err(bad(
                    &[Key("pim"), Key("stacks")],
                    "expected at least 1".into(),
                ));
            }
        }
        Ok(())
    }

    /// The device's in-memory PIM as a system's devices see their PIM share: the link is the
    /// memory level itself; the capacity is shared with the level.
    pub fn memory_pim(&self) -> Option<crate::Pim> {
        let p = self.pim.as_ref()?;
        let crate::Component::Inline(spec) = &p.device else {
            return None;
        };
        let level = self.offchip();
        Some(crate::Pim {
            spec: spec.as_ref().clone(),
            attach: crate::PimAttachment {
                device: p.device.clone(),
                modules: 1,
                placement: p.placement,
                head_pipelining: p.head_pipelining,
                ffn_split: p.ffn_split,
                link: crate::PimLink {
                    bandwidth_gbps: level.bandwidth_gbps * level.efficiency,
                    latency_us: level.latency_ns * 1e-3,
                    energy_pj_per_byte: level.energy_pj_per_byte,
                },
            },
            stacks_per_device: p.stacks,
            in_device_memory: true,
        })
    }

    /// The off-chip memory (HBM/DDR/GDDR).
    pub fn offchip(&self) -> &MemoryLevel {
        // validate() guarantees a non-empty list ending with the off-chip level.
        &self.memory[self.memory.len() - 1]
    }

    /// Per-core on-chip buffer used for tiles (the innermost core-scope level).
    pub fn core_buffer(&self) -> Option<&MemoryLevel> {
        self.memory.iter().find(|m| m.scope == Scope::Core)
    }

    /// This device as it runs a model needing `model_bytes` of memory: when an on-chip
    /// level `holds_model` and the model fits in it, the hierarchy ends at that level (it
    /// becomes the backing store); otherwise the device is unchanged.
    pub fn for_model(&self, model_bytes: u64) -> std::borrow::Cow<'_, DeviceSpec> {
        let Some(i) = self.memory.iter().position(|m| m.holds_model) else {
            return std::borrow::Cow::Borrowed(self);
        };
        let level = &self.memory[i];
        let instances = if level.scope == Scope::Core {
            self.cores
        } else {
            1
        };
        if model_bytes > level.capacity_bytes.saturating_mul(instances) {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut d = self.clone();
        d.memory.truncate(i + 1);
        let last = &mut d.memory[i];
        last.capacity_bytes = last.capacity_bytes.saturating_mul(instances);
        last.scope = Scope::Offchip;
        std::borrow::Cow::Owned(d)
    }

    /// This device as a kernel sees it while `reserved` of its cores run another kernel
    /// beside it (a communication kernel launched with an SM margin, as Transformer
    /// Engine's userbuffers do): the cores, and the matrix and vector peaks and core-scope
    /// bandwidth they add up to, shrink in proportion; the chip-scope and off-chip levels,
    /// clocks and power stay. Keeps at least one core.
    pub fn with_reserved_cores(&self, reserved: u64) -> DeviceSpec {
        let mut d = self.clone();
        let left = self.cores.saturating_sub(reserved).max(1);
        let share = left as f64 / self.cores.max(1) as f64;
        d.cores = left;
        for v in d.matrix.peak_tflops.values_mut() {
            *v *= share;
        }
        for v in d.vector.peak_tflops.values_mut() {
            *v *= share;
        }
        for m in d.memory.iter_mut().filter(|m| m.scope == Scope::Core) {
            m.bandwidth_gbps *= share;
        }
        d
    }

    /// Largest chip-scope on-chip level (L2, global buffer), if any.
    pub fn chip_buffer(&self) -> Option<&MemoryLevel> {
        self.memory
            .iter()
            .filter(|m| m.scope == Scope::Chip)
            .max_by_key(|m| m.capacity_bytes)
    }

    /// Matrix-engine rate (FLOP/s) for `d`: its own peak, or, when the chip has no native
    /// support, the peak of the narrowest supported format at least as wide (e.g. int4
    /// weights computed in int8). Falls back to the vector units when no matrix format is
    /// wide enough (fp32 on tensor-core GPUs runs on CUDA cores).
    ///
    /// TF32 is never a substitute: it is stored in 32 bits but multiplies with a 10-bit
    /// mantissa (NVIDIA A100 whitepaper, "TF32 Tensor Core"), and frameworks use it for fp32
    /// only when asked (`torch.backends.cuda.matmul.allow_tf32`, off by default since
    /// PyTorch 1.12). Counting it as "at least as wide" priced fp32 at the TF32 peak.
    pub fn matrix_flops(&self, d: DType) -> (f64, DType) {
        if let Some(v) = self.matrix.peak_tflops.get(&d) {
            return (v * 1e12, d);
        }
        let wider = self
            .matrix
            .peak_tflops
            .iter()
            .filter(|(k, _)| **k != DType::Tf32)
            .filter(|(k, _)| k.bits() >= d.bits() && is_float(**k) == is_float(d))
            .min_by_key(|(k, _)| k.bits());
        match wider {
            Some((k, v)) => (v * 1e12, *k),
            None => (self.vector_flops(d), d),
        }
    }

    /// Transcendentals per second on the special-function units (`vector.sfu_per_clock` ×
    /// cores × clock), if the device has them apart from its vector lanes.
    pub fn sfu_rate(&self) -> Option<f64> {
        self.vector
            .sfu_per_clock
            .map(|v| v * self.cores as f64 * self.clock_ghz * 1e9)
    }

    /// Vector rate (FLOP/s) for `d`, falling back to fp32.
    pub fn vector_flops(&self, d: DType) -> f64 {
        let v = self
            .vector
            .peak_tflops
            .get(&d)
            .or_else(|| self.vector.peak_tflops.get(&DType::Fp32))
            .copied()
            .unwrap_or(1.0);
        v * 1e12
    }

    /// Dynamic energy per MAC in the format actually computed; unknown formats scale from
    /// the natural one by bit width squared (multiplier area ∝ bits², Horowitz ISSCC 2014).
    pub fn mac_energy_j(&self, d: DType) -> f64 {
        if let Some(v) = self.energy.mac_pj.get(&d) {
            return v * 1e-12;
        }
        let (nd, nv) = self
            .energy
            .mac_pj
            .get(&self.natural_dtype)
            .map(|v| (self.natural_dtype, *v))
            .or_else(|| self.energy.mac_pj.iter().next().map(|(k, v)| (*k, *v)))
            .unwrap_or((self.natural_dtype, 1.0));
        let r = d.bits() as f64 / nd.bits() as f64;
        nv * r * r * 1e-12
    }
}

fn is_float(d: DType) -> bool {
    !matches!(d, DType::Int8 | DType::Int4)
}

/// Why `cap_w` cannot cap a device of `power`: a cap must leave power above static power
/// for any work, and can only lower the limit (a cap above TDP is not one).
pub fn check_power_cap(cap_w: f64, power: &Power) -> Result<(), String> {
    if cap_w.is_finite() && cap_w > power.idle_w && cap_w <= power.tdp_w {
        Ok(())
    } else {
        Err(format!(
            "expected a cap above idle_w ({} W) and at most tdp_w ({} W), got {cap_w}",
            power.idle_w, power.tdp_w
        ))
    }
}

impl DeviceSpec {
    /// The power the device may draw, W: its cap when set, else its TDP.
    pub fn power_limit_w(&self) -> f64 {
        self.power_cap_w
            .map_or(self.power.tdp_w, |c| c.min(self.power.tdp_w))
    }
}
