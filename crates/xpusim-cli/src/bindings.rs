//! What the language bindings (the Python package, the browser explorer's WebAssembly)
//! need beside [`crate::run_cli`]: a hardware spec as JSON to edit, and an edited JSON spec
//! back as the TOML the loaders read. One copy, so both doors convert the same way.

/// (file name, JSON text) of a device, system or PIM preset or hardware file: the spec as
/// a JSON object to edit.
pub fn hw_source_json(name: &str) -> Result<(String, String), String> {
    let (file, text) = xpusim_hw::registry::source(name).map_err(|e| e.to_string())?;
    let v: toml::Table = toml::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
    let json = serde_json::to_string(&v).map_err(|e| e.to_string())?;
    Ok((file, json))
}

/// The JSON object `json` written as TOML (a hardware spec as the spec files write it);
/// `what` names it in errors.
pub fn json_to_toml(what: &str, json: &str) -> Result<String, String> {
    let v: toml::Value = serde_json::from_str(json).map_err(|e| format!("{what}: {e}"))?;
    match v {
        toml::Value::Table(t) => {
            toml::to_string(&t).map_err(|e| format!("{what}: not expressible as TOML: {e}"))
        }
        _ => Err(format!(
            "{what}: expected a table (an object), got {}",
            v.type_str()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preset_round_trips_through_json() {
        let (file, json) = hw_source_json("h100-sxm").expect("preset");
        assert!(file.ends_with(".toml"), "{file}");
        let toml = json_to_toml("edited", &json).expect("toml");
        let back: toml::Table = toml::from_str(&toml).expect("parses");
        let orig: toml::Table = serde_json::from_str(&json).expect("json");
        assert_eq!(back, orig);
    }

    #[test]
    fn a_json_array_is_not_a_spec() {
        let e = json_to_toml("edited", "[1, 2]").unwrap_err();
        assert!(e.contains("edited: expected a table"), "{e}");
    }
}
