//! Planning a settings change: which organizations change, from what to what, and the
//! exact rows before and after. Pure: the database layer reads and writes, this decides.
//!
//! `rows`: the settings rows as stored and as written; `toggle`: a toggle's plan;
//! `restore`: a rollback's plan and what an unconfirmed commit left; `api`: the same for a
//! change through Label Studio's API.

mod api;
mod restore;
mod rows;
mod toggle;

pub use api::*;
pub use restore::*;
pub use rows::*;
pub use toggle::*;

use serde::{Deserialize, Serialize};

/// Ids for a message: the first ten, then how many more (a message never lists 100,000).
pub fn id_list(ids: &[i64]) -> String {
    const SHOWN: usize = 10;
    let shown: Vec<String> = ids.iter().take(SHOWN).map(i64::to_string).collect();
    match ids.len().checked_sub(SHOWN) {
        Some(more) if more > 0 => format!("{} and {more} more", shown.join(", ")),
        _ => shown.join(", "),
    }
}

/// Deciding a write from the rows read under the lock, shown one at a time in id order
/// (at 100,000 organizations they are never all held at once): `see` each row, then
/// `decide` whether to write, and which rows (`changes`).
pub trait Decide {
    fn see(&mut self, org: OrgSettings) -> anyhow::Result<()>;
    /// Once every row was seen: whether anything is to be written.
    fn decide(&mut self) -> anyhow::Result<bool>;
    /// The rows to write, once `decide` said so.
    fn changes(&self) -> &[RowChange];
}

/// Which database a backup belongs to: a rollback refuses any other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbIdentity {
    /// `sqlite` or `postgresql`.
    pub kind: String,
    /// The absolute SQLite path, or `host:port/dbname`.
    pub location: String,
}

impl std::fmt::Display for DbIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.location)
    }
}
