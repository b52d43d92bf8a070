//! Pareto fronts over two or three objectives.

/// What a design is judged on; each maps to one results column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Geometric-mean samples per second over the suite (higher is better).
    Throughput,
    /// Geometric-mean energy per sample, J (lower is better).
    Energy,
    /// Die area, mm² (lower is better).
    Area,
    /// Manufacturing cost of one packaged chip, USD (lower is better).
    Cost,
    /// Geometric-mean $ per million samples over the service life (lower is better).
    Tco,
}

impl Objective {
    pub const ALL: [Objective; 5] = [
        Objective::Throughput,
        Objective::Energy,
        Objective::Area,
        Objective::Cost,
        Objective::Tco,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Objective::Throughput => "throughput",
            Objective::Energy => "energy",
            Objective::Area => "area",
            Objective::Cost => "cost",
            Objective::Tco => "tco",
        }
    }

    /// The results column holding this objective.
    pub fn column(self) -> &'static str {
        match self {
            Objective::Throughput => "throughput_geomean_per_s",
            Objective::Energy => "energy_geomean_j",
            Objective::Area => "die_area_mm2",
            Objective::Cost => "chip_cost_usd",
            Objective::Tco => "usd_per_m_samples_geomean",
        }
    }

    pub fn maximise(self) -> bool {
        self == Objective::Throughput
    }

    /// Parses `a,b[,c]`: two or three distinct objectives.
    pub fn parse_list(s: &str) -> Result<Vec<Objective>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let o = Objective::ALL
                .into_iter()
                .find(|o| o.name() == part)
                .ok_or_else(|| {
                    let names: Vec<_> = Objective::ALL.iter().map(|o| o.name()).collect();
                    format!("unknown objective `{part}` (expected {})", names.join(", "))
                })?;
            if out.contains(&o) {
                return Err(format!("objective `{part}` given twice"));
            }
            out.push(o);
        }
        if !(2..=3).contains(&out.len()) {
            return Err(format!(
                "expected two or three objectives, got {}",
                out.len()
            ));
        }
        Ok(out)
    }
}

/// Indices (into `points`) of the non-dominated points; each point is its objective
/// values, `maximise[k]` telling the direction of objective k. Points with a non-finite
/// value are never on the front. Ties (identical objective vectors) all stay.
pub fn front(points: &[Vec<f64>], maximise: &[bool]) -> Vec<usize> {
    let key = |p: &Vec<f64>| -> Vec<f64> {
        p.iter()
            .zip(maximise)
            .map(|(v, m)| if *m { -v } else { *v })
            .collect()
    };
    let pts: Vec<(usize, Vec<f64>)> = points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.len() == maximise.len() && p.iter().all(|v| v.is_finite()))
        .map(|(i, p)| (i, key(p)))
        .collect();
    // Sorting by the first key lets each point be checked only against those before it
    // that could dominate it (lexicographic order: a dominator never sorts after).
    let mut order: Vec<&(usize, Vec<f64>)> = pts.iter().collect();
    order.sort_by(|a, b| {
        a.1.iter()
            .zip(&b.1)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.0.cmp(&b.0))
    });
    let mut kept: Vec<&(usize, Vec<f64>)> = Vec::new();
    for p in order {
        let dominated = kept.iter().any(|q| dominates(&q.1, &p.1));
        if !dominated {
            kept.push(p);
        }
    }
    let mut idx: Vec<usize> = kept.into_iter().map(|p| p.0).collect();
    idx.sort_unstable();
    idx
}

/// `a` is no worse than `b` everywhere and better somewhere (all keys minimised).
fn dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y) && a.iter().zip(b).any(|(x, y)| x < y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_front() {
        // (throughput ↑, energy ↓)
        let p = vec![
            vec![10.0, 5.0],
            vec![8.0, 3.0],
            vec![9.0, 6.0],
            vec![10.0, 5.0],
            vec![f64::NAN, 1.0],
        ];
        assert_eq!(front(&p, &[true, false]), vec![0, 1, 3]);
    }

    #[test]
    fn objective_lists() {
        assert_eq!(
            Objective::parse_list("throughput, area").unwrap(),
            vec![Objective::Throughput, Objective::Area]
        );
        assert!(Objective::parse_list("throughput").is_err());
        assert!(Objective::parse_list("area,area").is_err());
        assert!(Objective::parse_list("speed,area")
            .unwrap_err()
            .contains("speed"));
    }

    proptest! {
        #[test]
        fn front_matches_brute_force(pts in prop::collection::vec(prop::collection::vec(0u8..6, 3), 0..40)) {
            let p: Vec<Vec<f64>> = pts.iter().map(|v| v.iter().map(|x| *x as f64).collect()).collect();
            let max = [true, false, false];
            let f = front(&p, &max);
            let k = |v: &Vec<f64>| vec![-v[0], v[1], v[2]];
            for i in 0..p.len() {
                let dominated = (0..p.len()).any(|j| dominates(&k(&p[j]), &k(&p[i])));
                prop_assert_eq!(f.contains(&i), !dominated);
            }
        }
    }
}
