//! Strings from outside (database values, server answers, file contents, paths) as lsauth
//! shows them to a person: every control character, DEL, C1 control, bidi and zero-width
//! format character escaped (`\x1b`, `\n`, `\u{202e}`), so that an organization title or
//! a server's `detail` can neither move the cursor, erase a plan about to be confirmed,
//! reorder text nor forge a line of a table. Pure. `--json` carries the exact strings.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is.
fn is_hostile(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{ad}' | '\u{61c}' | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}')
}

fn escape_into(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// A string from outside in double quotes, escaped once: `"Acme\x1b[2J"` (never Rust's
/// `{:?}`, which writes `\u{1b}` for a raw one and `\\x1b` for one already escaped).
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", outside(text))
}

/// One value from outside, on one line: nothing in it is left raw (a newline included).
pub fn outside(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hostile) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hostile(c) {
            escape_into(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text about to be written to a terminal (lsauth's own lines with values in them): as
/// `outside`, but the line breaks and tabs lsauth lays out with stay. The last guard for
/// any value a renderer missed.
pub fn terminal_text(s: &str) -> Cow<'_, str> {
    let keep = |c: char| c == '\n' || c == '\t';
    if !s.chars().any(|c| is_hostile(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hostile(c) && !keep(c) {
            escape_into(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_and_zero_width_are_escaped_plain_text_is_borrowed() {
        assert!(matches!(outside("Acme Labs — ü"), Cow::Borrowed(_)));
        assert_eq!(outside("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(outside("row\nforged | row"), "row\\nforged | row");
        assert_eq!(outside("x\ry\tz\x7f\u{85}"), "x\\ry\\tz\\x7f\\x85");
        assert_eq!(outside("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(outside("zero\u{200b}width\u{feff}"), "zero\\u{200b}width\\u{feff}");
        assert_eq!(terminal_text("line one\n\tline \x1b]0;t\x07two\r\n"), "line one\n\tline \\x1b]0;t\\x07two\\r\n");
    }
}
