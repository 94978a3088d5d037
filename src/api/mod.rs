//! Label Studio's protocol, the one edge to the server: the HTTP client and its raw
//! answers (`client`), and acting as a signed-in user (`session`).

mod client;
pub mod session;

pub use client::*;
