//! `exitcode`: exits with the decimal number in its argument (default 42),
//! after printing `exitcode: exiting with <code>`. The code is a `u32`, so
//! every value of the ABI's exit code can be tested. An argument that is
//! not a number prints `exitcode: bad argument <arg>` and exits 2.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use ferrous_rt::{println, sys};

ferrous_rt::entry!(main);

const DEFAULT_CODE: u32 = 42;

fn main() -> i32 {
    let code = match ferrous_rt::args().next() {
        None => DEFAULT_CODE,
        Some(arg) => match core::str::from_utf8(arg).ok().and_then(|s| s.parse().ok()) {
            Some(code) => code,
            None => {
                println!(
                    "exitcode: bad argument {}",
                    core::str::from_utf8(arg).unwrap_or("<not UTF-8>")
                );
                return 2;
            }
        },
    };
    println!("exitcode: exiting with {code}");
    sys::exit(code)
}
