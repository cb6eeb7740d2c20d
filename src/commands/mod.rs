//! User commands, one file each. The protocol verbs live in `protocol.rs`.

pub mod browser;
pub mod configure_docker;
pub mod doctor;
pub mod generate;
pub mod login;
pub mod logout;
pub mod status;
pub mod switch;
pub mod update;
