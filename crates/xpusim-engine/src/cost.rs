use serde::{Serialize, Serializer};

/// What bound an op's time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bound {
    /// Matrix or vector units.
    Compute,
    /// Bandwidth of the named memory level.
    Memory(String),
    /// Fixed launch/dispatch overhead and latency exceed the work.
    Overhead,
    /// Dynamic power would exceed the power limit (TDP or cap): the cores clock down.
    Power,
    /// Multi-device communication.
    Network,
}

impl Bound {
    pub fn label(&self) -> String {
        match self {
            Bound::Compute => "compute".into(),
            Bound::Memory(l) => format!("memory:{l}"),
            Bound::Overhead => "overhead".into(),
            Bound::Power => "power".into(),
            Bound::Network => "network".into(),
        }
    }
}

impl Serialize for Bound {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
    }
}

/// Bytes read from (or written to) one memory level, the time they take and the energy
/// they cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelTraffic {
    pub level: String,
    pub bytes: u64,
    pub time_s: f64,
    pub energy_j: f64,
}

/// The part of an op a processing-in-memory model placed on PIM.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PimShare {
    /// Share of the op's work done on PIM: 1, or in between for a split GEMM.
    pub fraction: f64,
    /// Time of the op had it run wholly on PIM (link included), s.
    pub pim_time_s: f64,
    /// Time on the device–PIM link, s (included in the op's time).
    pub link_s: f64,
    /// Time of the op on the device alone, s.
    pub host_time_s: f64,
}

/// The cost of ONE instance of an op.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpCost {
    /// Time on the matrix/vector units alone (padding and wave quantisation included).
    pub compute_s: f64,
    pub traffic: Vec<LevelTraffic>,
    pub overhead_s: f64,
    pub time_s: f64,
    /// All energy of the op: `compute_energy_j + Σ traffic[i].energy_j + pim_energy_j +
    /// idle_energy_j` (checked by tests).
    pub energy_j: f64,
    /// Dynamic energy of the arithmetic (MACs, vector FLOPs, array registers), J.
    pub compute_energy_j: f64,
    /// Energy spent on processing-in-memory (its banks, units and link), J.
    pub pim_energy_j: f64,
    /// Static power (idle power, leakage) over the op's time, J.
    pub idle_energy_j: f64,
    pub bound: Bound,
    /// Short description of the chosen mapping (tile sizes, unit).
    pub mapping: String,
    /// Set when a PIM model ran (part of) the op on PIM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pim: Option<PimShare>,
}

impl OpCost {
    /// Combines compute, traffic and overhead into `time_s` and `bound`.
    pub(crate) fn new(
        compute_s: f64,
        traffic: Vec<LevelTraffic>,
        overhead_s: f64,
        mapping: String,
    ) -> OpCost {
        let mut c = OpCost {
            compute_s,
            traffic,
            overhead_s,
            time_s: 0.0,
            energy_j: 0.0,
            compute_energy_j: 0.0,
            pim_energy_j: 0.0,
            idle_energy_j: 0.0,
            bound: Bound::Compute,
            mapping,
            pim: None,
        };
        c.finish();
        c
    }

    pub(crate) fn finish(&mut self) {
        let mut t = self.compute_s;
        let mut b = Bound::Compute;
        for l in &self.traffic {
            if l.time_s > t {
                t = l.time_s;
                b = Bound::Memory(l.level.clone());
            }
        }
        if self.overhead_s > t {
            b = Bound::Overhead;
        }
        self.time_s = t + self.overhead_s;
        self.bound = b;
    }

    /// Dynamic energy of every memory level's traffic, J.
    pub fn memory_energy_j(&self) -> f64 {
        self.traffic.iter().map(|t| t.energy_j).sum()
    }

    /// Recomputes `energy_j` from its parts.
    pub fn sum_energy(&mut self) {
        self.energy_j =
            self.compute_energy_j + self.memory_energy_j() + self.pim_energy_j + self.idle_energy_j;
    }

    /// Stretches the op to `time_s` (never shortens it): static power runs for longer.
    pub fn stretch_to(&mut self, time_s: f64, idle_w: f64) {
        if time_s > self.time_s {
            self.idle_energy_j += idle_w * (time_s - self.time_s);
            self.time_s = time_s;
            self.sum_energy();
        }
    }

    /// `n` back-to-back launches of this op (one GEMM run as `n` chunk kernels): times,
    /// bytes and energies scale by `n`, the bound stays.
    pub fn repeated(&self, n: u64) -> OpCost {
        let f = n as f64;
        let mut c = self.clone();
        c.compute_s *= f;
        c.overhead_s *= f;
        c.time_s *= f;
        c.energy_j *= f;
        c.compute_energy_j *= f;
        c.pim_energy_j *= f;
        c.idle_energy_j *= f;
        for l in c.traffic.iter_mut() {
            l.bytes = l.bytes.saturating_mul(n);
            l.time_s *= f;
            l.energy_j *= f;
        }
        if let Some(p) = c.pim.as_mut() {
            p.pim_time_s *= f;
            p.link_s *= f;
            p.host_time_s *= f;
        }
        if n > 1 {
            c.mapping = format!("{n} x [{}]", c.mapping);
        }
        c
    }

    /// Kernels run one after another: times, bytes and energies add; the bound is the
    /// longest part's.
    pub fn back_to_back(parts: Vec<OpCost>) -> OpCost {
        merge(parts)
    }

    pub fn traffic_bytes(&self, level: &str) -> u64 {
        self.traffic
            .iter()
            .filter(|l| l.level == level)
            .map(|l| l.bytes)
            .sum()
    }
}

/// Back-to-back kernels of one op: times add; the bound is that of the longest part.
pub(crate) fn merge(parts: Vec<OpCost>) -> OpCost {
    if parts.len() == 1 {
        return parts
            .into_iter()
            .next()
            .unwrap_or_else(|| OpCost::new(0.0, vec![], 0.0, String::new()));
    }
    let mut out = OpCost::new(0.0, vec![], 0.0, String::new());
    let mut longest = 0.0;
    let mut maps = Vec::new();
    for p in parts {
        out.compute_s += p.compute_s;
        out.overhead_s += p.overhead_s;
        out.time_s += p.time_s;
        out.energy_j += p.energy_j;
        out.compute_energy_j += p.compute_energy_j;
        out.pim_energy_j += p.pim_energy_j;
        out.idle_energy_j += p.idle_energy_j;
        for l in p.traffic {
            match out.traffic.iter_mut().find(|x| x.level == l.level) {
                Some(x) => {
                    x.bytes += l.bytes;
                    x.time_s += l.time_s;
                    x.energy_j += l.energy_j;
                }
                None => out.traffic.push(l),
            }
        }
        if p.time_s > longest {
            longest = p.time_s;
            out.bound = p.bound;
        }
        maps.push(p.mapping);
    }
    out.mapping = maps.join("; ");
    out
}
