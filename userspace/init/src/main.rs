//! `init`: the first user process. The kernel starts it with every boot
//! module's handle (slot `FIRST_MODULE + i`) and, as its arguments, the
//! module names in slot order, each followed by a NUL byte.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

ferrous_rt::entry!(main);

fn main() -> i32 {
    ferrous_rt::println!("init: starting");
    // TODO(user space): once the kernel runs processes, start the test
    // programs named in the arguments (`ferrous_rt::args()`): find each
    // name's module slot, `sys::spawn` it, `sys::wait` for it with a
    // timeout and report its exit status. For now init only proves that a
    // user program starts and exits.
    0
}
