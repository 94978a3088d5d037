//! Where lsauth's inputs come from: the process environment (`environment`), a `.env`
//! document kept byte for byte (`envfile`), the token and URL an integration uses
//! (`sources`), and Label Studio's SECRET_KEY (`secret_key`).

pub mod envfile;
pub mod environment;
pub mod secret_key;
pub mod sources;
