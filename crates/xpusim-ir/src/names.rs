//! The one "did you mean" rule for every name a user types: hardware presets of any kind,
//! zoo models, retired names.

/// Jaro–Winkler similarity above which a known name is offered: high enough that `h100-sx`
/// suggests `h100-sxm` and `mobilnet-v2` `mobilenet-v2`, but `tpu` does not list every
/// preset.
pub const SUGGEST_SIMILARITY: f64 = 0.75;

/// Up to three canonical names, best first, whose label (the name itself or an alias) is
/// close to `want`. Candidates are `(label, canonical)` pairs; comparison ignores case and
/// treats `_` as `-`.
pub fn close_names<'a>(
    want: &str,
    candidates: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<String> {
    let norm = |s: &str| s.trim().to_ascii_lowercase().replace('_', "-");
    let want = norm(want);
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|(label, canonical)| (strsim::jaro_winkler(&want, &norm(label)), canonical))
        .filter(|(s, _)| *s > SUGGEST_SIMILARITY)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<String> = Vec::new();
    for (_, c) in scored {
        if !out.iter().any(|o| o == c) {
            out.push(c.to_string());
        }
        if out.len() == 3 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_suggest_their_canonical_name_once() {
        let c = [
            ("h100-sxm", "h100-sxm"),
            ("h100", "h100-sxm"),
            ("h200", "h200"),
        ];
        assert_eq!(close_names("H100-SX", c), vec!["h100-sxm", "h200"]);
        assert!(close_names("tpu", [("h100-sxm", "h100-sxm")]).is_empty());
        assert_eq!(
            close_names("mobilnet_v2", [("mobilenet-v2", "mobilenet-v2")]),
            vec!["mobilenet-v2"]
        );
    }
}
