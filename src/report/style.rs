//! Text for people with colour, counted words and wrapping. The `Painter` guards every
//! piece of text (`shown::terminal_text`) before it adds its own escape codes, so colour
//! never opens a way for an outside string to reach the terminal raw.

use crate::outcome::checks::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Bold,
    Dim,
    Green,
    Yellow,
    Red,
}

impl Style {
    fn code(self) -> Option<&'static str> {
        match self {
            Style::Plain => None,
            Style::Bold => Some("1"),
            Style::Dim => Some("2"),
            Style::Green => Some("32"),
            Style::Yellow => Some("33"),
            Style::Red => Some("31"),
        }
    }

    pub fn of(status: Status) -> Style {
        match status {
            Status::Pass => Style::Green,
            Status::Warn => Style::Yellow,
            Status::Fail => Style::Red,
            Status::Skip => Style::Dim,
        }
    }
}

/// Text being built for a terminal or a pipe: with colour, each piece in its style.
pub struct Painter {
    color: bool,
    text: String,
}

impl Painter {
    pub fn new(color: bool) -> Self {
        Painter { color, text: String::new() }
    }

    pub fn push(&mut self, style: Style, piece: &str) -> &mut Self {
        let piece = crate::text::shown::terminal_text(piece);
        match style.code().filter(|_| self.color) {
            Some(code) => self.text.push_str(&format!("\x1b[{code}m{piece}\x1b[0m")),
            None => self.text.push_str(&piece),
        }
        self
    }

    pub fn plain(&mut self, piece: &str) -> &mut Self {
        self.push(Style::Plain, piece)
    }

    pub fn newline(&mut self) -> &mut Self {
        self.text.push('\n');
        self
    }

    /// The text, ready for `print_painted` (every piece already guarded).
    pub fn finish(self) -> String {
        self.text
    }
}

/// "1 problem", "2 problems": a count in the words people use. `many` is the plural.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "1 organization", "3 organizations": `count` for the nouns that take an "s".
pub fn count_s(n: usize, one: &str) -> String {
    count(n, one, &format!("{one}s"))
}

/// The words of `text` as `wrap` places them: a command named in prose (from `lsauth` to
/// the end of the text, or to a word closing with `)`, `;` or `,`) is one word, so that it
/// stays on one line and pastes.
fn wrap_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut command: Option<String> = None;
    for word in text.split(' ') {
        match command.as_mut() {
            Some(c) => {
                c.push(' ');
                c.push_str(word);
                if word.ends_with([')', ';', ',']) {
                    words.extend(command.take());
                }
            }
            None if word == "lsauth" || word == "(lsauth" => command = Some(word.to_string()),
            None => words.push(word.to_string()),
        }
    }
    words.extend(command);
    words
}

/// `text` broken at blanks into lines of at most `width` columns (a word longer than
/// the width stays whole: a command, an id, a URL or an email is never split), every
/// line after the first indented by `indent` spaces. Without a width, `text` as it is.
pub fn wrap(text: &str, width: Option<usize>, indent: usize) -> Vec<String> {
    let Some(width) = width else { return vec![text.to_string()] };
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in wrap_words(text) {
        let word = word.as_str();
        let len = word.chars().count();
        let limit = if lines.is_empty() { width } else { width.saturating_sub(indent) };
        if used > 0 && used + 1 + len > limit {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        if used > 0 {
            line.push(' ');
            used += 1;
        }
        line.push_str(word);
        used += len;
    }
    lines.push(line);
    let pad = " ".repeat(indent);
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let l = l.trim_end();
            if i == 0 {
                l.to_string()
            } else {
                format!("{pad}{}", l.trim_start())
            }
        })
        .collect()
}

/// Prose lines of `text` wrapped to `width` (indent 2 after the first line); a line that
/// pastes (`Fix:`, `Undo:`) or draws a table is left whole.
pub fn wrap_prose(text: &str, width: Option<usize>) -> String {
    let Some(width) = width else { return text.to_string() };
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let keep = body.chars().count() <= width
            || ["Fix:", "Undo:", "Backup:"].iter().any(|p| body.starts_with(p))
            || body.starts_with(['+', '|', '│', '┌', '├', '└', '╞', '─']);
        if keep {
            out.push_str(line);
        } else {
            out.push_str(&wrap(body, Some(width), 2).join("\n"));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_english() {
        assert_eq!(count_s(1, "warning"), "1 warning");
        assert_eq!(count_s(0, "problem"), "0 problems");
        assert_eq!(count(2, "PAT", "PATs"), "2 PATs");
    }

    #[test]
    fn wraps_at_blanks_and_never_inside_a_word() {
        let lines = wrap("a long sentence naming /very/long/path/label_studio.sqlite3 here", Some(20), 4);
        assert_eq!(lines[0], "a long sentence");
        assert_eq!(lines[1], "    naming");
        assert_eq!(lines[2], "    /very/long/path/label_studio.sqlite3");
        assert_eq!(lines[3], "    here");
        // A command named in prose stays on one line, whole.
        let lines = wrap("pin them (lsauth --db x.db upgrade-check --to latest) before", Some(20), 2);
        assert_eq!(lines, ["pin them", "  (lsauth --db x.db upgrade-check --to latest)", "  before"]);
        assert_eq!(wrap("as it is", None, 2), vec!["as it is"]);
    }

    #[test]
    fn colour_codes_wrap_guarded_text_only() {
        let mut p = Painter::new(true);
        p.push(Style::Red, "✗").plain(" title \x1b]8;;evil\x07");
        let text = p.finish();
        assert!(text.starts_with("\x1b[31m✗\x1b[0m"));
        assert!(text.contains("\\x1b]8;;evil\\x07"), "{text:?}");
        let mut p = Painter::new(false);
        p.push(Style::Red, "FAIL");
        assert_eq!(p.finish(), "FAIL");
    }
}
