//! The `gws-conform` binary: command-line parsing and the glue between the harness library and the
//! embedded reference server. The library never imports the server; only this binary knows both.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
