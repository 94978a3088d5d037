//! The `lsauth` binary: parse, run, turn the outcome into an exit code. Nothing else.

fn main() -> std::process::ExitCode {
    lsauth::main_entry()
}
