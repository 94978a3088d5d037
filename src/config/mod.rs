//! Where lsauth's inputs come from (the process environment itself is `crate::environment`,
//! a leaf the domain may use): a `.env`
//! document kept byte for byte (`envfile`), the token and URL an integration uses
//! (`sources`), where Label Studio keeps its database and data (`label_studio`), and
//! its SECRET_KEY (`secret_key`).

pub mod envfile;
pub mod label_studio;
pub mod secret_key;
pub mod sources;
