//! Host tests: the header and modules here; `bootconf` (the boot
//! configuration file), `memmap` (normalising and validating the memory
//! map) and `props` (its property tests) in their files.

use super::*;

mod bootconf;
mod memmap;
mod props;

/// Pages of 4 KiB in the memory-map tests.
const K: u64 = 4096;

/// A region of `len` pages from page `base`.
fn r(base: u64, len: u64, kind: MemoryKind) -> MemoryRegion {
    MemoryRegion::new(base * K, len * K, kind)
}

#[test]
fn empty_header_is_valid() {
    assert_eq!(BootInfo::empty().check_header(), Ok(()));
}

#[test]
fn header_errors_are_specific() {
    let mut bi = BootInfo::empty();
    bi.magic = 1;
    assert_eq!(bi.check_header(), Err(HeaderError::BadMagic(1)));
    let mut bi = BootInfo::empty();
    bi.version = 9;
    assert_eq!(bi.check_header(), Err(HeaderError::UnsupportedVersion(9)));
    let mut bi = BootInfo::empty();
    bi.size = 3;
    assert!(matches!(
        bi.check_header(),
        Err(HeaderError::SizeMismatch { found: 3, .. })
    ));
    let mut bi = BootInfo::empty();
    bi.phys_offset = 0;
    assert_eq!(bi.check_header(), Err(HeaderError::UnexpectedPhysOffset(0)));
}

#[test]
fn module_names_round_trip_and_long_names_are_refused() {
    let m = Module::new("init", 0x1000, 42).unwrap();
    assert_eq!(m.name(), "init");
    assert!(Module::new(&"x".repeat(MODULE_NAME_LEN + 1), 0, 0).is_none());
    let max = "y".repeat(MODULE_NAME_LEN);
    assert_eq!(Module::new(&max, 0, 0).unwrap().name(), max);
}

#[test]
fn corrupt_module_name_length_is_clamped() {
    let mut m = Module::new("a", 0, 0).unwrap();
    m.name_len = u32::MAX;
    // Must not panic: clamps to the buffer and reads zero bytes as names.
    assert_eq!(m.name().len(), MODULE_NAME_LEN);
}
