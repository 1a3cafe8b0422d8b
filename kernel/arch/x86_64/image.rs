//! Where the linker put the kernel's sections (symbols from linker.ld).

use core::ops::Range;

unsafe extern "C" {
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __kernel_end: u8;
}

/// Kernel text, read-only data, and data + bss, as virtual ranges.
pub struct Sections {
    pub text: Range<u64>,
    pub rodata: Range<u64>,
    pub data: Range<u64>,
}

pub fn sections() -> Sections {
    // Only the addresses of the linker symbols are used, never their contents.
    let a = |s: *const u8| s as u64;
    Sections {
        text: a(&raw const __text_start)..a(&raw const __text_end),
        rodata: a(&raw const __rodata_start)..a(&raw const __rodata_end),
        data: a(&raw const __data_start)..a(&raw const __kernel_end),
    }
}
