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
    /// Dynamic power would exceed TDP: the chip clocks down.
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

/// Bytes read from (or written to) one memory level, and the time they take.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelTraffic {
    pub level: String,
    pub bytes: u64,
    pub time_s: f64,
}

/// The cost of ONE instance of an op.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpCost {
    /// Time on the matrix/vector units alone (padding and wave quantisation included).
    pub compute_s: f64,
    pub traffic: Vec<LevelTraffic>,
    pub overhead_s: f64,
    pub time_s: f64,
    pub energy_j: f64,
    pub bound: Bound,
    /// Short description of the chosen mapping (tile sizes, unit).
    pub mapping: String,
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
            bound: Bound::Compute,
            mapping,
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
        for l in p.traffic {
            match out.traffic.iter_mut().find(|x| x.level == l.level) {
                Some(x) => {
                    x.bytes += l.bytes;
                    x.time_s += l.time_s;
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
