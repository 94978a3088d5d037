//! The write paths: every change lsauth makes to Label Studio's settings goes through one
//! of them, the database's (`database`) or the API's (`api`). Each plans again where it
//! writes, backs up and syncs before it commits, and says what a lost answer left.

pub mod api;
pub mod database;
