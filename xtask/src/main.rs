//! `cargo xtask`: build, run, test and debug Ferrous. Host-only.
//!
//! ```text
//! cargo xtask build [--release]
//! cargo xtask run   [--release] [--smp N] [--mem SIZE] [-- KERNEL CMDLINE...]
//! cargo xtask test  [--release] [--scenarios-only] [SCENARIO...]
//! cargo xtask gdb   [--release] [--launch] [--smp N] [--mem SIZE] [-- KERNEL CMDLINE...]
//! cargo xtask bench [--icount] [--quick] [--rounds N] [--mem SIZE]
//! cargo xtask trace SCENARIO [--categories SPEC] [--release] [--explain THREAD [--from US] [--to US]] [--out DIR]
//! cargo xtask trace --file TRACE.BIN [--explain THREAD [--from US] [--to US]] [--out DIR]
//! cargo xtask help [COMMAND]
//! ```
//!
//! The command line is [`cli::Cli`], one options struct per command.

#![forbid(unsafe_code)]

mod bench;
mod bench_cpio;
mod bench_linux;
mod bench_parse;
mod bench_report;
mod build;
mod cli;
mod docs;
mod esp;
mod lint;
mod qemu;
mod scenario;
mod test;
mod toolchain;
mod trace;

use cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Help (`help`, `-h`, `--help`, no command) and usage errors end here.
    let cli = cli::parse(std::env::args_os()).unwrap_or_else(|e| e.exit());
    // Every command builds for the bare-metal targets: complete the toolchain
    // first (rustup does not always add what rust-toolchain.toml names).
    if let Err(e) = toolchain::ensure() {
        eprintln!("xtask: {e}");
        return ExitCode::FAILURE;
    }
    let result = match &cli {
        Cli::Build(a) => build::build_all(a.release).map(|_| ()),
        Cli::Run(a) => qemu::run_interactive(a),
        Cli::Gdb(a) => qemu::run_gdb(a),
        Cli::Test(a) => test::run(a),
        Cli::Bench(a) => bench::run(a),
        Cli::Trace(a) => trace::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
