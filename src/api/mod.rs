//! Label Studio's protocol, the one edge to the server: the HTTP client and its raw
//! answers (`client`), what those answers mean (`answers`), a token tested as each
//! client sends it (`probes`), Personal Access Tokens minted, listed and revoked
//! (`pats`), and acting as a signed-in user (`session`).

pub mod answers;
mod client;
pub mod pats;
pub mod probes;
pub mod session;

pub use client::*;
