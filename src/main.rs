//! Entry point: argv to command, command to exit status. Nothing else.

fn main() -> std::process::ExitCode {
    docker_credential_atcr::run(std::env::args_os())
}
