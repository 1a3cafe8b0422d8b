//! `spinner`: a busy but well-behaved program, for running beside others.
//! The argument N (default 200) is how many times it calls `thread_yield`;
//! it sleeps 1 ms after every 10th yield and prints its progress after
//! every 50th:
//!
//! ```text
//! spinner: 50/200
//! spinner: 100/200
//! spinner: 150/200
//! spinner: 200/200
//! spinner: done
//! ```
//!
//! Exit code 0, or 2 (with `spinner: bad argument <arg>`) if the argument
//! is not a decimal number.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use ferrous_rt::{println, sys};

ferrous_rt::entry!(main);

const DEFAULT_YIELDS: u64 = 200;

fn main() -> i32 {
    let n = match ferrous_rt::args().next() {
        None => DEFAULT_YIELDS,
        Some(arg) => match core::str::from_utf8(arg).ok().and_then(|s| s.parse().ok()) {
            Some(n) => n,
            None => {
                println!(
                    "spinner: bad argument {}",
                    core::str::from_utf8(arg).unwrap_or("<not UTF-8>")
                );
                return 2;
            }
        },
    };
    for i in 1..=n {
        sys::yield_now();
        if i % 10 == 0 {
            sys::sleep_ns(1_000_000);
        }
        if i % 50 == 0 {
            println!("spinner: {i}/{n}");
        }
    }
    println!("spinner: done");
    0
}
