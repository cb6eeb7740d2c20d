//! User commands, one file each. The protocol verbs live in `protocol.rs`.

pub mod configure_docker;
pub mod generate;
