//! Line numbers for validation errors: the same approach as `xpusim-hw`'s spec module (walk
//! the document with `toml_edit`, report the line of the deepest existing key).

/// A path segment into the TOML document.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg<'a> {
    Key(&'a str),
}

pub(crate) fn render(path: &[Seg<'_>]) -> String {
    let mut s = String::new();
    for p in path {
        let Seg::Key(k) = p;
        if !s.is_empty() {
            s.push('.');
        }
        s.push_str(k);
    }
    s
}

/// 1-based line of the value at `path`, or of its closest existing parent; 1 if unknown.
pub(crate) fn locate(src: &str, path: &[Seg<'_>]) -> usize {
    let Ok(doc) = src.parse::<toml_edit::ImDocument<String>>() else {
        return 1;
    };
    let mut item: &toml_edit::Item = doc.as_item();
    let mut best = None;
    for seg in path {
        let Seg::Key(k) = seg;
        let next = item.get(*k);
        match next {
            Some(n) => {
                if let Some(sp) = n.span() {
                    best = Some(sp.start);
                }
                item = n;
            }
            None => break,
        }
    }
    best.map(|b| src[..b.min(src.len())].matches('\n').count() + 1)
        .unwrap_or(1)
}
