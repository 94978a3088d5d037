//! The house's layers, as a test (#37): every `crate::…` path in `src/` (outside test
//! modules) is an arrow from its file to the file that defines what it names (through a
//! `pub use` of a module's `mod.rs`). No arrow may point from a lower layer to a higher
//! one, and no two files may reach each other. The order is written here and in
//! docs/architecture.md ("Layers"); change both together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top to bottom. A file belongs to the longest prefix that names it; a file may use its
/// own layer and those below.
const LAYERS: &[&[&str]] = &[
    &["src/main.rs", "src/lib.rs"],
    &["src/commands/"],
    &["src/write/"],
    &["src/report/", "src/outcome/"],
    // The command line's definitions, read by commands and report.
    &["src/cli.rs"],
    // Edges: I/O, nothing decided.
    &["src/api/", "src/db/", "src/backup/", "src/config/"],
    // The domain: pure, unit-tested (the `.env` document is the domain's value).
    &["src/settings/", "src/token/", "src/text/", "src/config/envfile/"],
    // Leaves: nothing of ours below them.
    &["src/exit.rs", "src/fsutil.rs", "src/signals.rs", "src/environment.rs"],
];

/// Arrows known to point the wrong way, each with what will end it. The list only shrinks:
/// an arrow that is gone must leave it (the test says so), a new one fails.
const KNOWN: &[(&str, &str, &str)] = &[];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/db/mod.rs` → `["db"]`, `src/db/sqlite.rs` → `["db", "sqlite"]`, `src/lib.rs` → `[]`.
fn module_of(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> =
        rel.trim_start_matches("src/").trim_end_matches(".rs").split('/').map(String::from).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The text with string and char literals blanked and comments removed, so that braces
/// and paths are counted in code only.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            b'\'' if b.get(i + 2) == Some(&b'\'') || (b.get(i + 1) == Some(&b'\\') && b.get(i + 3) == Some(&b'\'')) => {
                i += if b[i + 1] == b'\\' { 4 } else { 3 };
                out.push_str("' '");
            }
            _ => {
                let c = text[i..].chars().next().unwrap();
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// The code without `#[cfg(test)]` modules: tests may reach anywhere.
fn without_tests(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let trimmed = after.trim_start();
        if !(trimmed.starts_with("mod ") || trimmed.starts_with("pub mod ") || trimmed.starts_with("pub(crate) mod ")) {
            // An item, not a module: skip just the attribute's item up to its end.
            rest = after;
            continue;
        }
        // `mod tests;`: the module is a file of its own (skipped by its name).
        let Some(open) = after.find('{').filter(|open| after.find(';').is_none_or(|semi| semi > *open)) else {
            rest = after;
            continue;
        };
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path a file names from the crate root: `crate::a::b::C` and each leaf of
/// `use crate::{a::b, c::{d, E}}`.
fn crate_paths(code: &str) -> BTreeSet<Vec<String>> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before_ok = at == 0 || !ident_char(rest[..at].chars().last().unwrap());
        rest = &rest[at + "crate::".len()..];
        if !before_ok {
            continue;
        }
        if rest.starts_with('{') {
            let end = matching_brace(rest);
            for leaf in group_leaves(&rest[1..end]) {
                found.insert(leaf);
            }
            continue;
        }
        found.insert(path_at(rest));
    }
    found
}

fn matching_brace(text: &str) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// `a::b, c::{d, E}` → `[a, b]`, `[c, d]`, `[c, E]`.
fn group_leaves(group: &str) -> Vec<Vec<String>> {
    let mut leaves = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    let mut pieces = Vec::new();
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                pieces.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&group[start..]);
    for piece in pieces.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        match piece.find("::{") {
            Some(at) => {
                let prefix = path_at(&piece[..at]);
                let inner = &piece[at + 2..];
                for leaf in group_leaves(&inner[1..matching_brace(inner)]) {
                    leaves.push(prefix.iter().cloned().chain(leaf).collect());
                }
            }
            None => leaves.push(path_at(piece)),
        }
    }
    leaves
}

/// The identifiers joined by `::` at the start of `text`.
fn path_at(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text.trim_start();
    loop {
        let len = rest.find(|c: char| !ident_char(c)).unwrap_or(rest.len());
        if len == 0 {
            break;
        }
        parts.push(rest[..len].to_string());
        rest = &rest[len..];
        match rest.strip_prefix("::") {
            Some(r) if r.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') => rest = r,
            _ => break,
        }
    }
    parts
}

struct Crate {
    /// Module path → file (relative, `src/...`).
    modules: BTreeMap<Vec<String>, String>,
    /// File → its code without tests.
    code: BTreeMap<String, String>,
}

impl Crate {
    fn load() -> Crate {
        let mut files = Vec::new();
        rust_files(&root().join("src"), &mut files);
        let mut modules = BTreeMap::new();
        let mut code = BTreeMap::new();
        for path in files {
            let rel = path.strip_prefix(root()).unwrap().display().to_string();
            if rel.ends_with("/tests.rs") {
                continue; // a `#[cfg(test)] mod tests;` of its own
            }
            let text = std::fs::read_to_string(&path).unwrap();
            modules.insert(module_of(&rel), rel.clone());
            code.insert(rel, without_tests(&code_only(&text)));
        }
        Crate { modules, code }
    }

    fn defines(&self, file: &str, name: &str) -> bool {
        let code = &self.code[file];
        ["fn ", "struct ", "enum ", "trait ", "const ", "static ", "type ", "mod "].iter().any(|kw| {
            code.match_indices(&format!("{kw}{name}")).any(|(i, _)| {
                let after = code[i + kw.len() + name.len()..].chars().next().unwrap_or(' ');
                !ident_char(after)
            })
        })
    }

    /// The file that defines `path`'s item: the deepest module it names, then, for an item
    /// that module re-exports (`pub use child::{Item}`, `pub use child::*`), the child's.
    fn resolve(&self, path: &[String]) -> Option<String> {
        let depth = (0..=path.len()).rev().find(|&n| self.modules.contains_key(&path[..n]))?;
        let file = self.modules[&path[..depth]].clone();
        let Some(item) = path.get(depth) else { return Some(file) };
        if self.defines(&file, item) {
            return Some(file);
        }
        let code = &self.code[&file];
        for (at, _) in code.match_indices("pub use ") {
            let stmt = &code[at + "pub use ".len()..];
            let stmt = &stmt[..stmt.find(';').unwrap_or(stmt.len())];
            let leaves = if let Some(g) = stmt.find("::{") {
                let prefix = path_at(&stmt[..g]);
                let inner = &stmt[g + 2..];
                group_leaves(&inner[1..matching_brace(inner)])
                    .into_iter()
                    .map(|l| prefix.iter().cloned().chain(l).collect::<Vec<_>>())
                    .collect()
            } else if let Some(glob) = stmt.strip_suffix("::*") {
                let module = path_at(glob);
                let mut full: Vec<String> = path[..depth].to_vec();
                full.extend(module.iter().filter(|p| *p != "self").cloned());
                if self.modules.get(&full).is_some_and(|child| self.defines(child, item)) {
                    return self.modules.get(&full).cloned();
                }
                continue;
            } else {
                vec![path_at(stmt)]
            };
            for leaf in leaves.iter().filter(|l| l.last() == Some(item)) {
                let target: Vec<String> = if leaf.first().is_some_and(|f| f == "crate") {
                    leaf[1..].to_vec()
                } else {
                    path[..depth].iter().cloned().chain(leaf.iter().filter(|p| *p != "self").cloned()).collect()
                };
                if let Some(found) = self.resolve(&target) {
                    return Some(found);
                }
            }
        }
        Some(file)
    }

    fn arrows(&self) -> BTreeSet<(String, String)> {
        let mut arrows = BTreeSet::new();
        for (file, code) in &self.code {
            for path in crate_paths(code) {
                if let Some(to) = self.resolve(&path).filter(|to| to != file) {
                    arrows.insert((file.clone(), to));
                }
            }
        }
        arrows
    }
}

fn layer_of(file: &str) -> usize {
    let mut best: Option<(usize, usize)> = None;
    for (layer, prefixes) in LAYERS.iter().enumerate() {
        for prefix in prefixes.iter() {
            let names = file == *prefix || (prefix.ends_with('/') && file.starts_with(prefix));
            if names && best.is_none_or(|(_, len)| prefix.len() > len) {
                best = Some((layer, prefix.len()));
            }
        }
    }
    best.unwrap_or_else(|| panic!("{file} is in no layer: add it to LAYERS and to docs/architecture.md")).0
}

#[test]
fn no_arrow_points_up_and_no_two_files_reach_each_other() {
    let krate = Crate::load();
    let arrows = krate.arrows();
    let known: BTreeSet<(String, String)> = KNOWN.iter().map(|(a, b, _)| (a.to_string(), b.to_string())).collect();
    let mut wrong = Vec::new();
    for (from, to) in &arrows {
        if layer_of(to) < layer_of(from) && !known.contains(&(from.clone(), to.clone())) {
            wrong.push(format!("{from} -> {to} (a lower layer uses a higher one)"));
        }
    }
    for (a, b) in &arrows {
        let is_known = known.contains(&(a.clone(), b.clone())) || known.contains(&(b.clone(), a.clone()));
        if a < b && arrows.contains(&(b.clone(), a.clone())) && !is_known {
            wrong.push(format!("{a} <-> {b} (a circle)"));
        }
    }
    for (from, to, why) in KNOWN {
        if !arrows.contains(&(from.to_string(), to.to_string())) {
            wrong.push(format!("{from} -> {to} is gone: take it out of KNOWN ({why})"));
        }
    }
    assert!(wrong.is_empty(), "the layers (docs/architecture.md) are broken:\n{}", wrong.join("\n"));
}

/// The reader itself: paths through groups and re-exports land on the defining file.
#[test]
fn paths_resolve_through_groups_and_re_exports() {
    let krate = Crate::load();
    let resolve = |p: &str| krate.resolve(&p.split("::").map(String::from).collect::<Vec<_>>());
    assert_eq!(resolve("db::DbTarget").as_deref(), Some("src/db/target.rs"), "pub use target::{{..DbTarget..}}");
    assert_eq!(resolve("db::Database").as_deref(), Some("src/db/mod.rs"));
    assert_eq!(resolve("token::check::now_secs").as_deref(), Some("src/token/check.rs"));
    let leaves = group_leaves("a::b, c::{d, E}, f");
    assert_eq!(leaves, vec![vec!["a", "b"], vec!["c", "d"], vec!["c", "E"], vec!["f"]]);
    assert!(crate_paths("use crate::{x::y, z};\nlet v = crate::w::q();").contains(&vec!["w".to_string(), "q".into()]));
    assert!(!without_tests("a\n#[cfg(test)]\nmod tests {\n use crate::x;\n}\nb").contains("crate::x"));
}
