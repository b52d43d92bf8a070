//! Files held in memory: a hardware spec, a model config or a sweep spec that a program
//! built (a Python dict edited in a notebook) is read by the same loaders, with the same
//! file/field errors, as the file on disk would be. Loaders read through
//! [`read_to_string`], which looks here first and then at the disk.
//!
//! Names are chosen by the writer (the Python package uses `python:<kind>/<name>-<hash>.<ext>`,
//! so a name never collides with a path someone meant, and equal content gets the same name).
//! Entries live for the process: a notebook holds a handful of edited specs, each a few KB.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{OnceLock, RwLock};

fn files() -> &'static RwLock<HashMap<String, String>> {
    static FILES: OnceLock<RwLock<HashMap<String, String>>> = OnceLock::new();
    FILES.get_or_init(|| RwLock::new(HashMap::new()))
}

/// Adds (or replaces) the in-memory file `name`.
pub fn insert(name: &str, text: String) {
    // A poisoned lock only means another thread panicked mid-insert of a String: the map
    // itself is intact.
    let mut map = files().write().unwrap_or_else(|p| p.into_inner());
    map.insert(name.to_string(), text);
}

/// The in-memory file `name`, if there is one.
pub fn get(name: &str) -> Option<String> {
    let map = files().read().unwrap_or_else(|p| p.into_inner());
    map.get(name).cloned()
}

/// The text of `path`: the in-memory file of that name, else the file on disk.
pub fn read_to_string(path: &Path) -> std::io::Result<String> {
    if let Some(text) = path.to_str().and_then(get) {
        return Ok(text);
    }
    std::fs::read_to_string(path)
}

/// Writes `text` to `path`: on disk natively; in WebAssembly, where a page has no disk, into
/// the in-memory file of that name (the browser explorer reads an HTML report back with
/// [`get`]), so commands that write files run unchanged in both.
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if cfg!(target_arch = "wasm32") {
        insert(&path.to_string_lossy(), text.to_string());
        return Ok(());
    }
    std::fs::write(path, text)
}

/// Whether `path` names an in-memory file or a file on disk.
pub fn is_file(path: &Path) -> bool {
    path.to_str().is_some_and(|p| get(p).is_some()) || path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_first_then_disk() {
        insert("python:test/x-1.toml", "a = 1".into());
        assert_eq!(
            read_to_string(Path::new("python:test/x-1.toml")).ok(),
            Some("a = 1".to_string())
        );
        assert!(is_file(Path::new("python:test/x-1.toml")));
        assert!(read_to_string(Path::new("python:test/absent.toml")).is_err());
        assert!(!is_file(Path::new("python:test/absent.toml")));
    }
}
