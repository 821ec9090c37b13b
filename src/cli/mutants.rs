//! `mutants`: the harness against its own control. The clean reference server must pass every
//! case; every fault must make at least one case fail.

use super::{exit, MutantsArgs};

pub async fn mutants(args: MutantsArgs) -> u8 {
    let _ = args;
    eprintln!("error: mutants is not built yet");
    exit::ERROR
}
