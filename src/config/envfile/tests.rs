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
    // As python-dotenv reads it: `#` right after `=` is part of the value.
    assert_eq!(d.get("H"), Some("#nothing"));
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
    // Read in text mode, as python-dotenv does: the CRLF inside the quotes is a newline.
    assert_eq!(d.get("KEY"), Some("a\nb"));
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

/// An edit: the document before, the edit, the text it renders after, and the value the
/// edited key then reads as.
type EditCase<'a> = (&'a str, fn(&mut EnvDocument), &'a str, (&'a str, Option<&'a str>));

/// Each edit applied to a document parsed from its text.
fn check_edits(cases: &[EditCase<'_>]) {
    for (before, edit, after, (key, value)) in cases {
        let mut d = doc(before);
        edit(&mut d);
        assert_eq!(d.render(), *after, "{before:?}");
        assert_eq!(d.get(key), *value, "{before:?}");
    }
}

#[test]
fn edits_keep_the_rest_of_the_document() {
    check_edits(&[
        (
            "  export LABEL_STUDIO_API_KEY = \"old\"   # the ML backend's key\r\nOTHER=1",
            |d| assert!(d.set_value("LABEL_STUDIO_API_KEY", "eyJ.new.sig")),
            "  export LABEL_STUDIO_API_KEY = \"eyJ.new.sig\"   # the ML backend's key\r\nOTHER=1",
            ("LABEL_STUDIO_API_KEY", Some("eyJ.new.sig")),
        ),
        (
            "A=old # c",
            |d| assert!(d.set_value("A", "needs quoting #")),
            "A=\"needs quoting #\" # c",
            ("A", Some("needs quoting #")),
        ),
        ("A='old'\n", |d| assert!(d.set_value("A", "new")), "A='new'\n", ("A", Some("new"))),
        // Only the duplicate that decides the value (the last) changes.
        ("K=first\nK=second\n", |d| assert!(d.set_value("K", "third")), "K=first\nK=third\n", ("K", Some("third"))),
        // The other edits keep the line endings and every other line.
        (
            "A=1\r\nK=old\r\n",
            |d| assert!(d.comment_before("K", "K=old (replaced)")),
            "A=1\r\n# K=old (replaced)\r\nK=old\r\n",
            ("K", Some("old")),
        ),
        ("A=1\nK=old", |d| assert!(d.remove("K")), "A=1", ("K", None)),
        ("A=1", |d| d.upsert("B", "two words"), "A=1\nB=\"two words\"", ("B", Some("two words"))),
        ("A=1\n", |d| d.upsert("A", "2"), "A=2\n", ("A", Some("2"))),
    ]);
}

#[test]
fn quoting_round_trips() {
    for value in ["plain", "with space", "quote\"inside", "back\\slash", "multi\nline", "$HOME", "", "tab\t", "it's"] {
        for style in [Quote::None, Quote::Single, Quote::Double] {
            let text = format!("K={}\n", quote_value(value, style));
            assert_eq!(doc(&text).get("K"), Some(value), "{text:?}");
        }
    }
}

/// The real-world shapes in tests/fixtures/env.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/env");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "the corpus is there");
    files
}

#[test]
fn corpus_round_trips_byte_for_byte() {
    for (name, bytes) in corpus() {
        let d = EnvDocument::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(d.render().as_bytes(), &bytes[..], "{name}");
    }
}

#[test]
fn corpus_edit_changes_exactly_one_value_line() {
    for (name, bytes) in corpus() {
        let mut d = EnvDocument::parse(&bytes).unwrap();
        let var = ["LABEL_STUDIO_API_KEY", "LABEL_STUDIO_API_TOKEN"].into_iter().find(|v| d.get(v).is_some()).unwrap();
        let old = d.get(var).unwrap().to_string();
        assert!(d.set_value(var, "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2ln"), "{name}");
        let before = String::from_utf8(bytes.clone()).unwrap();
        let after = d.render();
        let a: Vec<&str> = before.split_inclusive('\n').collect();
        let b: Vec<&str> = after.split_inclusive('\n').collect();
        assert_eq!(a.len(), b.len(), "{name}: same number of lines");
        let changed: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        assert_eq!(changed.len(), 1, "{name}: {changed:?}");
        let line = changed[0];
        assert_eq!(
            a[line].replace(&old, "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2ln"),
            b[line],
            "{name}"
        );
    }
}

/// A fixed xorshift sequence over a .env-flavoured alphabet: reproducible, and dense in
/// the characters the grammar cares about.
fn generated_inputs(count: usize) -> Vec<Vec<u8>> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pieces: [&[u8]; 22] = [
        b"KEY",
        b"export ",
        b"=",
        b"\"",
        b"'",
        b"#",
        b" ",
        b"\t",
        b"\n",
        b"\r\n",
        b"\\",
        b"\\n",
        b"value",
        b"A_1",
        b".",
        b"\xc3\xa9",
        b"\xff",
        b"\0",
        b"$",
        b"\r",
        b"-",
        b"=\"x\"",
    ];
    (0..count)
        .map(|_| {
            let len = (next() % 30) as usize;
            let mut bytes = Vec::new();
            for _ in 0..len {
                let r = next();
                bytes.extend_from_slice(pieces[(r % pieces.len() as u64) as usize]);
            }
            bytes
        })
        .collect()
}

#[test]
fn render_of_parse_is_identity_for_every_accepted_input_and_nothing_panics() {
    let mut accepted = 0;
    for input in generated_inputs(100_000) {
        if let Ok(d) = EnvDocument::parse(&input) {
            accepted += 1;
            assert_eq!(d.render().as_bytes(), &input[..], "{:?}", String::from_utf8_lossy(&input));
            // Editing any key keeps the document parseable and changes only that value.
            if let Some(key) = d.lines.iter().find_map(|l| match &l.kind {
                Kind::Entry { key, span: Some(_), .. } => Some(key.clone()),
                _ => None,
            }) {
                let mut edited = d.clone();
                edited.set_value(&key, "new value #1");
                let reparsed = EnvDocument::parse(edited.render().as_bytes()).expect("an edited document parses");
                assert_eq!(reparsed.get(&key), Some("new value #1"));
            }
        }
    }
    assert!(accepted > 5_000, "the generator reaches valid documents ({accepted})");
}

#[test]
fn backslash_escapes_decode_as_each_reader_means_them() {
    let tab_only = |escaped| (escaped == 't').then_some('\t');
    assert_eq!(decode_backslashes(r"a\tb\qc\", tab_only), "a\tb\\qc\\", "unknown escapes and a last backslash stay");
    // django-environ keeps \n, \r, \t as written and drops the backslash of any other.
    let environ = |escaped| (!matches!(escaped, 'r' | 'n' | 't')).then_some(escaped);
    assert_eq!(decode_backslashes(r#"\n\"\\x"#, environ), "\\n\"\\x");
    assert_eq!(doc(r#"K="\n\q\\""#).get("K"), Some("\n\\q\\"), "python-dotenv");
}
