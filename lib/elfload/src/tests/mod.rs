//! Tests build small ELF files by hand, then break them one field at a time.

use super::*;

mod props;

const BASE: u64 = 0xffff_ffff_8000_0000;
const KERNEL: Range<u64> = BASE..u64::MAX - PAGE_SIZE + 1;

/// (vaddr, memsz, filesz, flags) for each PT_LOAD; file data follows headers.
struct Spec {
    e_type: u16,
    machine: u16,
    entry: u64,
    segs: Vec<(u64, u64, u64, u32)>,
}

fn good() -> Spec {
    Spec {
        e_type: ET_EXEC,
        machine: EM_X86_64,
        entry: BASE + 0x10,
        segs: vec![
            (BASE, 0x100, 0x100, PF_R | PF_X),
            (BASE + 0x1000, 0x80, 0x80, PF_R),
            (BASE + 0x2000, 0x3000, 0x40, PF_R | PF_W),
        ],
    }
}

fn build(s: &Spec) -> Vec<u8> {
    let phoff = 64u64;
    let data_start = 0x1000u64;
    let mut f = vec![0u8; data_start as usize];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // ELFCLASS64
    f[5] = 1; // little endian
    f[6] = 1; // EV_CURRENT
    f[16..18].copy_from_slice(&s.e_type.to_le_bytes());
    f[18..20].copy_from_slice(&s.machine.to_le_bytes());
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&s.entry.to_le_bytes());
    f[32..40].copy_from_slice(&phoff.to_le_bytes());
    f[52..54].copy_from_slice(&64u16.to_le_bytes()); // ehsize
    f[54..56].copy_from_slice(&56u16.to_le_bytes()); // phentsize
    f[56..58].copy_from_slice(&(s.segs.len() as u16).to_le_bytes());
    for (i, &(vaddr, memsz, filesz, flags)) in s.segs.iter().enumerate() {
        let offset = data_start + (i as u64) * 0x1000 + (vaddr % PAGE_SIZE);
        let p = (phoff as usize) + i * 56;
        let ph = &mut f[p..p + 56];
        ph[0..4].copy_from_slice(&PT_LOAD.to_le_bytes());
        ph[4..8].copy_from_slice(&flags.to_le_bytes());
        ph[8..16].copy_from_slice(&offset.to_le_bytes());
        ph[16..24].copy_from_slice(&vaddr.to_le_bytes());
        ph[24..32].copy_from_slice(&vaddr.to_le_bytes());
        ph[32..40].copy_from_slice(&filesz.to_le_bytes());
        ph[40..48].copy_from_slice(&memsz.to_le_bytes());
        ph[48..56].copy_from_slice(&PAGE_SIZE.to_le_bytes());
    }
    f.resize(data_start as usize + s.segs.len() * 0x1000 + 0x1000, 0xcc);
    f
}

fn set_phdr_u64(f: &mut [u8], seg: usize, field_off: usize, v: u64) {
    let p = 64 + seg * 56 + field_off;
    f[p..p + 8].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn valid_image_plans_exactly() {
    let plan = plan(&build(&good()), KERNEL).unwrap();
    assert_eq!(plan.entry, BASE + 0x10);
    let s = plan.segments();
    assert_eq!(s.len(), 3);
    assert_eq!(s[0].perms.to_string(), "r-x");
    assert_eq!(s[1].perms.to_string(), "r--");
    assert_eq!(s[2].perms.to_string(), "rw-");
    assert_eq!(s[2].pages(), BASE + 0x2000..BASE + 0x5000);
    assert_eq!(plan.span(), BASE..BASE + 0x5000);
}

#[test]
fn header_defects() {
    let mut f = build(&good());
    f[0] = b'X';
    assert_eq!(plan(&f, KERNEL), Err(ElfError::Malformed("bad magic")));
    let mut s = good();
    s.machine = 3;
    assert_eq!(plan(&build(&s), KERNEL), Err(ElfError::WrongMachine(3)));
    let mut s = good();
    s.e_type = 3; // ET_DYN
    assert_eq!(plan(&build(&s), KERNEL), Err(ElfError::NotExecutable(3)));
    let mut f = build(&good());
    f[4] = 1; // ELFCLASS32
    assert!(matches!(
        plan(&f, KERNEL),
        Err(ElfError::Malformed(_) | ElfError::Not64Bit)
    ));
}

#[test]
fn truncated_files_are_refused() {
    let f = build(&good());
    for len in [0, 3, 16, 63, 64, 100, 0x1000, 0x1050] {
        assert!(plan(&f[..len], KERNEL).is_err(), "len {len}");
    }
}

#[test]
fn segment_defects() {
    let mut s = good();
    s.segs[1].3 = PF_R | PF_W | PF_X;
    assert_eq!(
        plan(&build(&s), KERNEL),
        Err(ElfError::WritableAndExecutable(1))
    );

    let mut s = good();
    s.segs[1].2 = 0x2000;
    s.segs[1].1 = 0x80;
    assert_eq!(
        plan(&build(&s), KERNEL),
        Err(ElfError::FileSizeExceedsMemSize(1))
    );

    let mut s = good();
    s.segs[1].0 = BASE + 0x80; // shares the text page
    assert_eq!(
        plan(&build(&s), KERNEL),
        Err(ElfError::OverlappingSegments(0, 1))
    );

    let mut s = good();
    s.segs[0].0 = 0x40_0000;
    s.entry = 0x40_0010;
    assert_eq!(
        plan(&build(&s), KERNEL),
        Err(ElfError::OutsideAllowedRange(0))
    );

    let mut s = good();
    s.entry = BASE + 0x1010; // read-only data
    assert_eq!(
        plan(&build(&s), KERNEL),
        Err(ElfError::EntryNotExecutable(BASE + 0x1010))
    );

    let mut s = good();
    s.segs[2].1 = u64::MAX;
    assert_eq!(plan(&build(&s), KERNEL), Err(ElfError::AddressOverflow(2)));

    let mut f = build(&good());
    set_phdr_u64(&mut f, 1, 8, 1 << 40); // p_offset far outside the file
    assert_eq!(plan(&f, KERNEL), Err(ElfError::SegmentOutsideFile(1)));

    let mut f = build(&good());
    set_phdr_u64(&mut f, 1, 8, 0x2001); // offset not congruent with vaddr
    assert_eq!(plan(&f, KERNEL), Err(ElfError::Misaligned(1)));

    let mut f = build(&good());
    set_phdr_u64(&mut f, 1, 8, u64::MAX - 2); // offset + filesz wraps
    assert_eq!(plan(&f, KERNEL), Err(ElfError::SegmentOutsideFile(1)));
}

#[test]
fn segment_counts() {
    let mut s = good();
    s.segs.clear();
    assert_eq!(plan(&build(&s), KERNEL), Err(ElfError::NoLoadableSegments));
    let mut s = good();
    s.segs = (0..=MAX_SEGMENTS as u64)
        .map(|i| (BASE + i * 0x1000, 0x10, 0x10, PF_R | PF_X))
        .collect();
    assert_eq!(plan(&build(&s), KERNEL), Err(ElfError::TooManySegments));
}

#[test]
fn host_pie_binary_is_refused_with_a_reason() {
    // The test binary itself: a dynamic PIE (ET_DYN) for the host.
    let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    assert!(matches!(
        plan(&me, KERNEL),
        Err(ElfError::NotExecutable(3) | ElfError::UnsupportedSegment(_))
    ));
}
