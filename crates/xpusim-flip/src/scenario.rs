//! Workload-mix scenarios and service-life timelines as data (TOML).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::suite::ERAS;
use crate::FlipError;

const BUILTIN_SCENARIOS: &str = include_str!("../data/scenarios.toml");
const BUILTIN_TIMELINE: &str = include_str!("../data/timeline.toml");

/// Shares of demand per era, normalised to sum to 1.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scenario {
    pub name: String,
    pub note: String,
    pub mix: BTreeMap<String, f64>,
}

/// One year of a service life.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Year {
    pub year: i64,
    pub mix: BTreeMap<String, f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    scenario: Vec<RawScenario>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    note: String,
    mix: BTreeMap<String, f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimelineFile {
    timeline: Vec<RawYear>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: i64,
    mix: BTreeMap<String, f64>,
}

fn bad(file: &str, item: String, msg: String) -> FlipError {
    FlipError::Input {
        file: file.to_string(),
        item,
        msg,
    }
}

/// Checks era names and weights and normalises them to sum to 1.
fn normalise(
    file: &str,
    item: &str,
    mix: BTreeMap<String, f64>,
) -> Result<BTreeMap<String, f64>, FlipError> {
    let mut sum = 0.0;
    for (era, w) in &mix {
        if !ERAS.contains(&era.as_str()) {
            return Err(bad(
                file,
                format!("{item}: mix.{era}"),
                format!("unknown era (expected one of {})", ERAS.join(", ")),
            ));
        }
        if !(w.is_finite() && *w >= 0.0) {
            return Err(bad(
                file,
                format!("{item}: mix.{era}"),
                format!("expected a weight ≥ 0, got {w}"),
            ));
        }
        sum += w;
    }
    if sum <= 0.0 {
        return Err(bad(
            file,
            format!("{item}: mix"),
            "expected at least one positive weight".into(),
        ));
    }
    Ok(mix
        .into_iter()
        .filter(|(_, w)| *w > 0.0)
        .map(|(e, w)| (e, w / sum))
        .collect())
}

/// Parses a scenarios file (`[[scenario]] name, note, mix = { era = weight }`).
pub fn parse_scenarios(file: &str, src: &str) -> Result<Vec<Scenario>, FlipError> {
    let f: ScenarioFile = toml::from_str(src).map_err(|e| FlipError::Parse {
        file: file.to_string(),
        msg: e.to_string().trim_end().replace('\n', " | "),
    })?;
    if f.scenario.is_empty() {
        return Err(bad(
            file,
            "scenario".into(),
            "expected at least one [[scenario]]".into(),
        ));
    }
    let mut out: Vec<Scenario> = Vec::new();
    for (i, s) in f.scenario.into_iter().enumerate() {
        let item = format!("scenario[{i}] `{}`", s.name);
        if out.iter().any(|o| o.name == s.name) {
            return Err(bad(file, item, "duplicate scenario name".into()));
        }
        out.push(Scenario {
            mix: normalise(file, &item, s.mix)?,
            name: s.name,
            note: s.note,
        });
    }
    Ok(out)
}

/// Parses a timeline file (`[[timeline]] year, mix`); years must increase by one.
pub fn parse_timeline(file: &str, src: &str) -> Result<Vec<Year>, FlipError> {
    let f: TimelineFile = toml::from_str(src).map_err(|e| FlipError::Parse {
        file: file.to_string(),
        msg: e.to_string().trim_end().replace('\n', " | "),
    })?;
    if f.timeline.is_empty() {
        return Err(bad(
            file,
            "timeline".into(),
            "expected at least one [[timeline]] year".into(),
        ));
    }
    let mut out: Vec<Year> = Vec::new();
    for (i, y) in f.timeline.into_iter().enumerate() {
        let item = format!("timeline[{i}] (year {})", y.year);
        if let Some(prev) = out.last() {
            if y.year != prev.year + 1 {
                return Err(bad(
                    file,
                    item,
                    format!(
                        "expected year {} (one entry per year, in order)",
                        prev.year + 1
                    ),
                ));
            }
        }
        out.push(Year {
            mix: normalise(file, &item, y.mix)?,
            year: y.year,
        });
    }
    Ok(out)
}

pub fn builtin_scenarios() -> Vec<Scenario> {
    // The embedded file is checked by a unit test; an error here is a build defect.
    parse_scenarios("built-in scenarios", BUILTIN_SCENARIOS).unwrap_or_default()
}

pub fn builtin_timeline() -> Vec<Year> {
    parse_timeline("built-in timeline", BUILTIN_TIMELINE).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_and_normalise() {
        let s = parse_scenarios("b", BUILTIN_SCENARIOS).unwrap();
        assert!(s.len() >= 4);
        for sc in &s {
            let sum: f64 = sc.mix.values().sum();
            assert!((sum - 1.0).abs() < 1e-12, "{}", sc.name);
        }
        assert!(parse_timeline("t", BUILTIN_TIMELINE).unwrap().len() >= 3);
    }

    #[test]
    fn bad_inputs_name_the_item() {
        let e = parse_scenarios(
            "f.toml",
            "[[scenario]]\nname = \"x\"\nmix = { cnn = 1, transformers = 2 }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("f.toml") && e.contains("mix.transformers") && e.contains("unknown era"),
            "{e}"
        );
        let e = parse_scenarios("f.toml", "[[scenario]]\nname = \"x\"\nmix = { cnn = -1 }\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("≥ 0"), "{e}");
        let e = parse_scenarios("f.toml", "[[scenario]]\nname = \"x\"\nmix = { cnn = 0 }\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("positive"), "{e}");
        let e = parse_timeline("t.toml", "[[timeline]]\nyear = 2024\nmix = { cnn = 1 }\n[[timeline]]\nyear = 2026\nmix = { cnn = 1 }\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected year 2025"), "{e}");
        let e = parse_timeline("t.toml", "[[timeline]]\nyear = 2024\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.toml") && e.contains("mix"), "{e}");
    }
}
