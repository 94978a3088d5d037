//! A lossless `.env` document: parse, read, and render back byte for byte. Pure.
//!
//! The syntax is the one python-dotenv and django-environ read (what the Label Studio SDK,
//! ML backends and docker compose users write): `KEY=value`, an optional `export `
//! prefix, unquoted values ending at ` #` comments, 'single' quotes taken literally,
//! "double" quotes with backslash escapes, quoted values spanning lines, comments, blank
//! lines, LF, CRLF or lone CR line ends, and a last line without a newline. When a key
//! appears twice the last one wins, as in those loaders. Where python-dotenv's releases
//! disagree (a byte order mark, `KEY= # comment`), lsauth reads as the current one (1.2)
//! does and says what older ones read; what it writes reads the same in both.

use std::fmt;

/// How a value is quoted in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    None,
    Single,
    Double,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// Blank or comment: kept as it is.
    Other,
    /// `span`: where the value is written in `raw` (quotes included), to edit in place.
    Entry { key: String, value: Option<String>, quote: Quote, span: Option<(usize, usize)> },
}

/// One logical line (a quoted value may span several physical lines), with its exact
/// text including the line end.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    raw: String,
    kind: Kind,
    /// 1-based number of the first physical line.
    number: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvDocument {
    lines: Vec<Line>,
    /// The file starts with a UTF-8 byte order mark (kept in the first line's `raw`).
    bom: bool,
}

/// The byte order mark Notepad writes at the start of a UTF-8 file.
const BOM: &str = "\u{feff}";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// An entry as found, for reporting where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub key: &'a str,
    pub value: &'a str,
    pub line: usize,
}

fn is_key_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'
}

/// Split text into physical lines, each keeping its line end: LF, CRLF, or a CR alone,
/// which python-dotenv also ends a line at (`A=1\rB=2` sets B).
fn physical_lines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let end = match bytes[i] {
            b'\n' => i + 1,
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => i + 2,
            b'\r' => i + 1,
            _ => {
                i += 1;
                continue;
            }
        };
        lines.push(&text[start..end]);
        start = end;
        i = end;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

fn strip_eol(s: &str) -> &str {
    s.strip_suffix("\r\n").or_else(|| s.strip_suffix('\n')).or_else(|| s.strip_suffix('\r')).unwrap_or(s)
}

/// Whitespace as Python's `str.isspace` has it (Rust's adds none of U+001C..U+001F).
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Whitespace within a line: python-dotenv's `[^\S\r\n]`.
fn is_line_space(c: char) -> bool {
    is_py_space(c) && c != '\r' && c != '\n'
}

/// Decode a double-quoted body the way python-dotenv does (`\\[\\'"abfnrtv]`).
fn unescape_double(body: &str) -> String {
    decode_backslashes(body, |escaped| match escaped {
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'v' => Some('\u{b}'),
        '"' | '\\' | '\'' => Some(escaped),
        _ => None,
    })
}

/// `body` with each backslash escape `\x` replaced by what `meaning(x)` says, or kept as
/// written where it says `None`; a backslash at the very end stays. The readers of `.env`
/// files (python-dotenv, django-environ) differ only in `meaning`.
pub fn decode_backslashes(body: &str, meaning: impl Fn(char) -> Option<char>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(escaped) => match meaning(escaped) {
                Some(decoded) => out.push(decoded),
                None => {
                    out.push('\\');
                    out.push(escaped);
                }
            },
            None => out.push('\\'),
        }
    }
    out
}

/// Decode a single-quoted body: python-dotenv decodes `\\` and `\'` only.
fn unescape_single(body: &str) -> String {
    decode_backslashes(body, |escaped| matches!(escaped, '\'' | '\\').then_some(escaped))
}

/// Where a quoted body ends: the index of the closing quote in `s`, honouring escapes.
fn closing_quote(s: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            return Some(i);
        }
    }
    None
}

/// The logical line starting at physical line `i`, and how many physical lines it takes
/// (a quoted value may span several).
fn parse_line(physical: &[&str], i: usize) -> Result<(Line, usize), ParseError> {
    let number = i + 1;
    let first = physical[i];
    let content = strip_eol(first);
    let trimmed = content.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok((Line { raw: first.to_string(), kind: Kind::Other, number }, 1));
    }
    let mut rest = trimmed;
    if let Some(after) = rest.strip_prefix("export") {
        if after.starts_with([' ', '\t']) {
            rest = after.trim_start();
        }
    }
    let key_len = rest.char_indices().find(|&(_, c)| !is_key_char(c)).map(|(i, _)| i).unwrap_or(rest.len());
    let key = &rest[..key_len];
    if key.is_empty() || !key.starts_with(is_key_start) {
        // The line may hold a secret: say where, never what.
        return Err(ParseError {
            line: number,
            reason: "expected KEY=value (a name of letters, digits and _ . -, then =)".into(),
        });
    }
    let after_key = rest[key_len..].trim_start();
    if after_key.is_empty() || after_key.starts_with('#') {
        // A bare key: python-dotenv reads it as set without a value (unset for clients).
        // Its span is the empty place after the name, where an edit puts `=value`.
        let key_end = rest.as_ptr() as usize - first.as_ptr() as usize + key_len;
        let span = Some((key_end, key_end));
        let kind = Kind::Entry { key: key.to_string(), value: None, quote: Quote::None, span };
        return Ok((Line { raw: first.to_string(), kind, number }, 1));
    }
    let Some(value_text) = after_key.strip_prefix('=') else {
        return Err(ParseError { line: number, reason: "expected KEY=value ('=' after the name)".into() });
    };
    let spaced = value_text.starts_with(is_line_space);
    let value_text = value_text.trim_start_matches(is_line_space);
    match value_text.chars().next() {
        Some('"') => quoted_entry(physical, i, key, value_text, Quote::Double),
        Some('\'') => quoted_entry(physical, i, key, value_text, Quote::Single),
        // `KEY= # comment`: empty for python-dotenv 1.2.4; every release before it (1.2.3 included) reads `# comment`.
        Some('#') if spaced => Ok((unquoted_entry(first, key, &value_text[..0], number), 1)),
        _ => Ok((unquoted_entry(first, key, strip_eol(value_text), number), 1)),
    }
}

/// Where an unquoted value ends: python-dotenv cuts it at the first run of whitespace
/// followed by `#` (`re.sub(r"\s+#.*", "", part)`), then drops trailing whitespace.
fn unquoted_value(text: &str) -> &str {
    let mut run_start = None;
    let mut cut = text.len();
    for (i, c) in text.char_indices() {
        if is_py_space(c) {
            run_start.get_or_insert(i);
        } else if c == '#' && run_start.is_some() {
            cut = run_start.unwrap_or(i);
            break;
        } else {
            run_start = None;
        }
    }
    text[..cut].trim_end_matches(is_py_space)
}

/// `KEY=value # comment`: the value ends at the comment, trailing blanks dropped.
fn unquoted_entry(first: &str, key: &str, value_text: &str, number: usize) -> Line {
    let start = value_text.as_ptr() as usize - first.as_ptr() as usize;
    let value = unquoted_value(value_text);
    let kind = Kind::Entry {
        key: key.to_string(),
        value: Some(value.to_string()),
        quote: Quote::None,
        span: Some((start, start + value.len())),
    };
    Line { raw: first.to_string(), kind, number }
}

/// A quoted value, possibly over several physical lines: the line ends inside the quotes
/// are part of the value.
fn quoted_entry(
    physical: &[&str],
    i: usize,
    key: &str,
    value_text: &str,
    quote: Quote,
) -> Result<(Line, usize), ParseError> {
    let number = i + 1;
    let first = physical[i];
    let q = if quote == Quote::Double { '"' } else { '\'' };
    let body_start = value_text.as_ptr() as usize - first.as_ptr() as usize + 1;
    let mut raw = first.to_string();
    let mut consumed = 1;
    // Only what each appended line adds is scanned (a value of 10,000 lines is linear);
    // a line ends on a line end, never inside an escape, so scanning resumes cleanly.
    let mut scanned = body_start;
    let close = loop {
        if let Some(at) = closing_quote(&raw[scanned..], q) {
            break scanned + at;
        }
        scanned = raw.len();
        if i + consumed >= physical.len() {
            return Err(ParseError { line: number, reason: format!("unterminated {q}quoted value for {key}") });
        }
        raw.push_str(physical[i + consumed]);
        consumed += 1;
    };
    let body = &raw[body_start..close];
    // Any whitespace may follow the closing quote (a stray CR included), then a comment.
    let tail = strip_eol(&raw[close + 1..]).trim_start();
    if !(tail.is_empty() || tail.starts_with('#')) {
        return Err(ParseError {
            line: number + consumed - 1,
            // The text after the quote may be part of a secret: named, not quoted.
            reason: format!("unexpected text after the closing quote of {key}'s value"),
        });
    }
    // python-dotenv reads the file in text mode: a CRLF or lone CR inside the quotes is a
    // newline in the value (an escaped `\r` stays a CR: escapes are decoded after that).
    let body = body.replace("\r\n", "\n").replace('\r', "\n");
    let value = if quote == Quote::Double { unescape_double(&body) } else { unescape_single(&body) };
    let span = Some((body_start - 1, close + 1));
    let kind = Kind::Entry { key: key.to_string(), value: Some(value), quote, span };
    Ok((Line { raw, kind, number }, consumed))
}

impl EnvDocument {
    /// Parse bytes; anything that is not UTF-8 text, or a line that is neither blank, a
    /// comment nor an assignment, is an error naming the line.
    pub fn parse(bytes: &[u8]) -> Result<EnvDocument, ParseError> {
        if bytes.contains(&0) {
            return Err(ParseError { line: 1, reason: "binary data (a NUL byte): not a .env file".into() });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
            ParseError { line, reason: "not UTF-8 text".into() }
        })?;
        let bom = text.starts_with(BOM);
        let physical = physical_lines(text.strip_prefix(BOM).unwrap_or(text));
        let mut lines = Vec::with_capacity(physical.len());
        let mut i = 0;
        while i < physical.len() {
            let (line, consumed) = parse_line(&physical, i)?;
            lines.push(line);
            i += consumed;
        }
        if bom {
            // Rendered back as it was: the mark stays at the front of the first line.
            match lines.first_mut() {
                Some(first) => {
                    first.raw.insert_str(0, BOM);
                    if let Kind::Entry { span: Some((start, end)), .. } = &mut first.kind {
                        *start += BOM.len();
                        *end += BOM.len();
                    }
                }
                None => lines.push(Line { raw: BOM.to_string(), kind: Kind::Other, number: 1 }),
            }
        }
        Ok(EnvDocument { lines, bom })
    }

    /// With a byte order mark, the variable on the first line: python-dotenv 1.2 reads it,
    /// older releases read its name as `\u{feff}NAME`, so for them it is unset.
    pub fn bom_hidden_key(&self) -> Option<&str> {
        match self.lines.first().map(|l| &l.kind) {
            Some(Kind::Entry { key, .. }) if self.bom => Some(key),
            _ => None,
        }
    }

    /// The value of `key` (the last assignment wins); `None` when unset or bare.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entry(key).map(|e| e.value)
    }

    /// The entry that decides `key`'s value: the last one naming it, as in python-dotenv,
    /// where a bare `KEY` after `KEY=value` leaves it unset (`None` then).
    pub fn entry(&self, key: &str) -> Option<Entry<'_>> {
        let last = self.lines.iter().rev().find(|l| matches!(&l.kind, Kind::Entry { key: k, .. } if k == key))?;
        match &last.kind {
            Kind::Entry { key: k, value: Some(v), .. } => Some(Entry { key: k, value: v, line: last.number }),
            _ => None,
        }
    }

    /// Every key assigned, in order, once each.
    pub fn keys(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        let mut keys: Vec<String> = Vec::new();
        for l in &self.lines {
            if let Kind::Entry { key, .. } = &l.kind {
                if seen.insert(key.as_str()) {
                    keys.push(key.clone());
                }
            }
        }
        keys
    }

    /// Every variable as the loaders read the file: name to value (`None` for a bare
    /// name), the last assignment winning. One pass.
    pub fn values(&self) -> std::collections::HashMap<&str, Option<&str>> {
        let mut values = std::collections::HashMap::new();
        for l in &self.lines {
            if let Kind::Entry { key, value, .. } = &l.kind {
                values.insert(key.as_str(), value.as_deref());
            }
        }
        values
    }

    /// Values of variables named like credentials (TOKEN, KEY, PASSWORD, SECRET, ...):
    /// what output that shows this file must mask.
    pub fn secret_values(&self) -> Vec<String> {
        // Every value ever assigned to such a name, not only the deciding one: masking
        // errs on the side of hiding (an overridden key is a secret too).
        const HINTS: [&str; 6] = ["TOKEN", "KEY", "PASSWORD", "SECRET", "PASS", "AUTH"];
        let mut seen = std::collections::HashSet::new();
        self.lines
            .iter()
            .filter_map(|l| match &l.kind {
                Kind::Entry { key, value: Some(v), .. } if !v.is_empty() => Some((key, v)),
                _ => None,
            })
            .filter(|(k, _)| HINTS.iter().any(|h| k.to_ascii_uppercase().contains(h)))
            .filter(|(_, v)| seen.insert(v.as_str()))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The exact bytes parsed (or edited).
    pub fn render(&self) -> String {
        self.lines.iter().map(|l| l.raw.as_str()).collect()
    }

    /// Index of the line that decides `key`: the last one naming it, bare or not.
    fn deciding(&self, key: &str) -> Option<usize> {
        self.lines.iter().rposition(|l| matches!(&l.kind, Kind::Entry { key: k, .. } if k == key))
    }

    /// The line end this document uses (CRLF if any line has one).
    fn eol(&self) -> &'static str {
        if self.lines.iter().any(|l| l.raw.ends_with("\r\n")) {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// Replace the value of the assignment that decides `key`, keeping everything else on
    /// the line (indentation, `export `, spacing, quote style, a trailing comment, the line
    /// end). Returns false when `key` is not set.
    pub fn set_value(&mut self, key: &str, value: &str) -> bool {
        let Some(index) = self.deciding(key) else { return false };
        let line = &mut self.lines[index];
        let Kind::Entry { quote, span: Some((start, end)), value: old, .. } = line.kind.clone() else { return false };
        let mut written = quote_value(value, quote);
        if old.is_none() {
            // A bare name gets its `=`.
            written.insert(0, '=');
        }
        // `KEY= # comment`: the new value goes before the comment, with a blank between,
        // or `#` would join the value (`KEY= value# comment` reads `value# comment`).
        if start == end && line.raw[end..].starts_with('#') && !written.is_empty() {
            written.push(' ');
        }
        let raw = format!("{}{}{}", &line.raw[..start], written, &line.raw[end..]);
        let reparsed = EnvDocument::parse(raw.as_bytes()).expect("an edited line parses");
        let mut edited = reparsed.lines.into_iter().next().expect("one line");
        edited.number = line.number;
        *line = edited;
        true
    }

    /// Put `text` as a comment line (or lines) right before the assignment deciding `key`.
    pub fn comment_before(&mut self, key: &str, text: &str) -> bool {
        let Some(index) = self.deciding(key) else { return false };
        let eol = self.eol();
        // Every line of `text` commented, whatever ends it (a lone CR would end the comment
        // for python-dotenv and leave the rest as a line of its own).
        let text = text.trim_end_matches(['\n', '\r']).replace("\r\n", "\n");
        let raw: String = text.split(['\n', '\r']).map(|l| format!("# {l}{eol}")).collect();
        let number = self.lines[index].number;
        self.lines.insert(index, Line { raw, kind: Kind::Other, number });
        true
    }

    /// The assignment deciding `key` as written, without its line end.
    pub fn assignment_text(&self, key: &str) -> Option<String> {
        self.deciding(key).map(|i| strip_eol(&self.lines[i].raw).to_string())
    }

    /// Remove the assignment deciding `key`.
    pub fn remove(&mut self, key: &str) -> bool {
        match self.deciding(key) {
            Some(index) => {
                let removed = self.lines.remove(index);
                // Keep the file's last-line shape: if the removed line was last and had
                // no line end, the new last line loses its line end too.
                if index == self.lines.len() && !removed.raw.ends_with('\n') {
                    if let Some(last) = self.lines.last_mut() {
                        let trimmed = strip_eol(&last.raw).to_string();
                        last.raw = trimmed;
                    }
                }
                true
            }
            None => false,
        }
    }

    /// Remove every assignment of `key`, so that no loader reads it: removing only the
    /// deciding one would bring an earlier (until then overridden) one back to life.
    pub fn remove_all(&mut self, key: &str) -> usize {
        let mut removed = 0;
        while self.remove(key) {
            removed += 1;
        }
        removed
    }

    /// Set `key`: in place when it is assigned, else appended at the end.
    pub fn upsert(&mut self, key: &str, value: &str) {
        if self.set_value(key, value) {
            return;
        }
        let eol = self.eol();
        let missing_newline = self.lines.last().is_some_and(|l| !l.raw.ends_with('\n'));
        if missing_newline {
            if let Some(last) = self.lines.last_mut() {
                last.raw.push_str(eol);
            }
        }
        let raw = format!("{key}={}{}", quote_value(value, Quote::None), if missing_newline { "" } else { eol });
        let mut line = EnvDocument::parse(raw.as_bytes()).expect("a new line parses").lines.remove(0);
        line.number = self.lines.last().map(|l| l.number + l.raw.matches('\n').count()).unwrap_or(1);
        self.lines.push(line);
    }
}

/// Check that `after` (the bytes about to be written) reads as intended: every variable in
/// `changed` exactly as given (`None`: unset), every other variable of `before` as it was,
/// and no variable added that is not in `changed`. The message names variables, never
/// values. This is what stands between an edit that went wrong (a quote, a comment, a
/// duplicate) and a file whose client reads something other than what lsauth reports.
pub fn check_rewrite(before: &EnvDocument, after: &[u8], changed: &[(&str, Option<&str>)]) -> Result<(), String> {
    let is_changed = |k: &str| changed.iter().any(|(c, _)| *c == k);
    if before.bom_hidden_key().is_some_and(is_changed) {
        return Err("the changed variable is on the first line, behind a byte order mark".into());
    }
    let doc = EnvDocument::parse(after).map_err(|e| format!("the rewritten file does not parse ({e})"))?;
    let (old, new) = (before.values(), doc.values());
    for (key, want) in changed {
        let got = new.get(key).copied().flatten();
        if got != *want {
            return Err(format!("{key} would not read the new value from the rewritten file"));
        }
    }
    for (key, value) in &old {
        if !is_changed(key) && new.get(key) != Some(value) {
            return Err(format!("{key} would read differently from the rewritten file"));
        }
    }
    if let Some(key) = new.keys().find(|k| !is_changed(k) && !old.contains_key(*k)) {
        return Err(format!("the rewritten file would set {key}, which lsauth did not mean to"));
    }
    Ok(())
}

/// A value as it must be written: in the line's own quote style, unquoted only when
/// nothing in it needs quotes.
pub fn quote_value(value: &str, style: Quote) -> String {
    let needs_quotes = value.is_empty()
        || value.chars().any(|c| c.is_whitespace() || matches!(c, '#' | '"' | '\'' | '\\' | '$' | '`'));
    match style {
        Quote::Single if !value.contains('\'') && !value.contains('\\') => format!("'{value}'"),
        Quote::None if !needs_quotes => value.to_string(),
        _ => {
            let escaped = value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
                .replace('\r', "\\r")
                .replace('\t', "\\t");
            format!("\"{escaped}\"")
        }
    }
}

#[cfg(test)]
mod tests;
