//! `hello`: the smallest user program. Prints one line and exits 0.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

ferrous_rt::entry!(main);

fn main() -> i32 {
    ferrous_rt::println!("hello from user space");
    0
}
