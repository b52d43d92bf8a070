//! Trace CSV parsing: good rows, and one-line `file:line` errors for bad ones.

use xpusim_serve::{parse_trace, read_trace, ServeError};

#[test]
fn parses_header_comments_and_sorts_by_arrival() {
    let t = "arrival_s,input_tokens,output_tokens\n# a comment\n0.5, 100, 20\n\n0.1,50,5\n";
    let r = parse_trace("t.csv", t).unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].arrival_s, 0.1);
    assert_eq!((r[1].input_tokens, r[1].output_tokens), (100, 20));
}

#[test]
fn bad_rows_name_file_and_line() {
    let cases = [
        ("0.1,10,5\n0.2,10\n", 2, "expected 3 columns"),
        ("0.1,10,5\nsoon,10,5\n", 2, "arrival_s `soon`"),
        ("0.1,10,5\n-1,10,5\n", 2, "arrival_s `-1`"),
        ("0.1,10,5\n0.2,0,5\n", 2, "input_tokens `0`"),
        ("a,b,c\n0.1,10,5\n0.3,10,2.5\n", 3, "output_tokens `2.5`"),
        ("0.1,10,5,7\n", 1, "got 4"),
        ("arrival_s,input_tokens,output_tokens\n", 1, "no requests"),
    ];
    for (text, line, what) in cases {
        let e = parse_trace("trace.csv", text).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, ServeError::Trace { .. }), "{msg}");
        assert!(msg.starts_with(&format!("trace.csv:{line}: ")), "{msg}");
        assert!(msg.contains(what), "{msg}");
        assert!(!msg.contains('\n'), "one line: {msg}");
    }
}

#[test]
fn missing_file_is_named() {
    let e = read_trace(std::path::Path::new("/nonexistent/trace.csv"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/trace.csv"), "{e}");
}
