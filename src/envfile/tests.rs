use super::*;

fn doc(text: &str) -> EnvDocument {
    EnvDocument::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text:?}"))
}

#[test]
fn values_as_the_loaders_read_them() {
    let d = doc("A=plain\nexport B=exported\nC='single # not a comment'\nD=\"double\\nline\"\nE=value # comment\nF=\nG = spaced \nH=#nothing\n");
    assert_eq!(d.get("A"), Some("plain"));
    assert_eq!(d.get("B"), Some("exported"));
    assert_eq!(d.get("C"), Some("single # not a comment"));
    assert_eq!(d.get("D"), Some("double\nline"));
    assert_eq!(d.get("E"), Some("value"));
    assert_eq!(d.get("F"), Some(""));
    assert_eq!(d.get("G"), Some("spaced"));
    assert_eq!(d.get("H"), Some(""));
    assert_eq!(d.get("MISSING"), None);
}

#[test]
fn last_assignment_wins_and_lines_are_numbered() {
    let d = doc("# c\nTOKEN=first\n\nTOKEN=second\n");
    let e = d.entry("TOKEN").unwrap();
    assert_eq!((e.value, e.line), ("second", 4));
}

#[test]
fn multi_line_quoted_values_and_crlf() {
    let text = "KEY=\"a\r\nb\"\r\nNEXT=1\r\n";
    let d = doc(text);
    assert_eq!(d.get("KEY"), Some("a\r\nb"));
    assert_eq!(d.get("NEXT"), Some("1"));
    assert_eq!(d.render(), text);
}

#[test]
fn renders_byte_for_byte() {
    for text in [
        "",
        "\n",
        "A=1",
        "A=1\n",
        "  # indented comment\r\n\r\nexport   A='x'  # trailing\r\nB=\"y\\\"z\"\n",
        "A=1\nA=2\nBARE\n",
        "K=\"multi\nline\nvalue\"\nL=2",
    ] {
        assert_eq!(doc(text).render(), text);
    }
}

#[test]
fn bad_lines_are_named() {
    for (text, line) in
        [("A=1\nthis is not an assignment\n", 2), ("A=\"open\nB=2\n", 1), ("A='x' junk\n", 1), ("=x\n", 1)]
    {
        let err = EnvDocument::parse(text.as_bytes()).unwrap_err();
        assert_eq!(err.line, line, "{text:?}: {err}");
    }
    assert!(EnvDocument::parse(b"A=\xff\xfe\n").unwrap_err().reason.contains("UTF-8"));
    assert!(EnvDocument::parse(b"A=1\0\n").unwrap_err().reason.contains("binary"));
}
