//! `completions` and `man`: shell completions and the man page, both
//! generated from the clap definition in `cli.rs`.

use std::io::Write;

use anyhow::Result;
use clap_complete::Shell;

use crate::cli;

/// Writes the completion script for `shell`.
pub fn completions(shell: Shell, stdout: &mut impl Write) -> Result<()> {
    let mut command = cli::command();
    clap_complete::generate(shell, &mut command, "docker-credential-atcr", stdout);
    Ok(())
}

/// Writes the man page in roff.
pub fn man_page(stdout: &mut impl Write) -> Result<()> {
    clap_mangen::Man::new(cli::command()).render(stdout)?;
    Ok(())
}
