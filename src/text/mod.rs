//! Text that leaves lsauth: secrets masked (`secrets`), strings from outside escaped for
//! a terminal (`shown`), and commands printed for the user to paste (`paste`).

pub mod paste;
pub mod secrets;
pub mod shown;
