//! What commands found or did, as data: the types `report` renders and `--json` prints.
//! Commands fill them in; nothing here does I/O, and nothing here knows a command.

pub mod change;
pub mod checks;
pub mod doctor;
pub mod migrate;
pub mod orgs;
pub mod token;
pub mod upgrade;
