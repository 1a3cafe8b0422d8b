//! Turns an untrusted ELF file into a [`LoadPlan`]: the segments to map, each
//! with exactly its permissions, and the entry point. Every header field is
//! checked here, once, so loaders (the UEFI loader for the kernel today, the
//! kernel for user programs later) only copy bytes and map pages.
//!
//! Parsing uses the `elf` crate; the policy (what is loadable) is ours.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

use core::fmt;
use core::ops::Range;
use elf::ElfBytes;
use elf::abi::{EM_X86_64, ET_EXEC, PF_R, PF_W, PF_X, PT_INTERP, PT_LOAD, PT_TLS};
use elf::endian::LittleEndian;
use elf::file::Class;

pub const PAGE_SIZE: u64 = 4096;
/// Most `PT_LOAD` segments a plan holds.
pub const MAX_SEGMENTS: usize = 16;

/// Why an ELF file was refused. Each defect has its own variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// The `elf` crate could not parse the headers (bad magic, truncated, ...).
    Malformed(&'static str),
    Not64Bit,
    WrongMachine(u16),
    NotExecutable(u16),
    NoLoadableSegments,
    TooManySegments,
    /// An interpreter or TLS segment: not supported for static images.
    UnsupportedSegment(u32),
    /// Segment `i`: `p_filesz > p_memsz`.
    FileSizeExceedsMemSize(usize),
    /// Segment `i`: its file bytes lie (partly) outside the file.
    SegmentOutsideFile(usize),
    /// Segment `i`: `p_vaddr + p_memsz` overflows.
    AddressOverflow(usize),
    /// Segment `i`: `p_vaddr` and `p_offset` differ modulo the page size.
    Misaligned(usize),
    /// Segment `i` asks for write and execute at once (W^X).
    WritableAndExecutable(usize),
    /// Segment `i` lies outside the address range the caller allows.
    OutsideAllowedRange(usize),
    /// Segments `a` and `b` share a page.
    OverlappingSegments(usize, usize),
    /// The entry point is not inside an executable segment.
    EntryNotExecutable(u64),
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ElfError::Malformed(why) => write!(f, "malformed ELF: {why}"),
            ElfError::Not64Bit => write!(f, "not a 64-bit little-endian ELF"),
            ElfError::WrongMachine(m) => write!(f, "machine {m} is not x86_64"),
            ElfError::NotExecutable(t) => {
                write!(f, "type {t} is not a static executable (ET_EXEC)")
            }
            ElfError::NoLoadableSegments => write!(f, "no loadable segments"),
            ElfError::TooManySegments => write!(f, "more than {MAX_SEGMENTS} loadable segments"),
            ElfError::UnsupportedSegment(t) => write!(f, "unsupported segment type {t:#x}"),
            ElfError::FileSizeExceedsMemSize(i) => {
                write!(f, "segment {i}: file size exceeds memory size")
            }
            ElfError::SegmentOutsideFile(i) => write!(f, "segment {i}: data lies outside the file"),
            ElfError::AddressOverflow(i) => write!(f, "segment {i}: address range overflows"),
            ElfError::Misaligned(i) => write!(
                f,
                "segment {i}: address and offset not congruent mod page size"
            ),
            ElfError::WritableAndExecutable(i) => {
                write!(f, "segment {i}: writable and executable (W^X)")
            }
            ElfError::OutsideAllowedRange(i) => {
                write!(f, "segment {i}: outside the allowed address range")
            }
            ElfError::OverlappingSegments(a, b) => write!(f, "segments {a} and {b} share a page"),
            ElfError::EntryNotExecutable(e) => {
                write!(f, "entry {e:#x} is not in an executable segment")
            }
        }
    }
}

fn describe(e: &elf::ParseError) -> &'static str {
    use elf::ParseError::*;
    match e {
        BadMagic(_) => "bad magic",
        UnsupportedElfClass(_) => "unsupported class",
        UnsupportedElfEndianness(_) => "unsupported endianness",
        UnsupportedVersion(_) => "unsupported version",
        BadOffset(_) => "offset out of bounds",
        SliceReadError(_) => "truncated file",
        BadEntsize(_) => "bad table entry size",
        IntegerOverflow => "integer overflow in header",
        _ => "unparseable headers",
    }
}

/// Access rights of a segment, as mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Perms {
    pub read: bool,
    pub write: bool,
    pub execute: bool,
}

impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = |b, ch| if b { ch } else { '-' };
        write!(
            f,
            "{}{}{}",
            c(self.read, 'r'),
            c(self.write, 'w'),
            c(self.execute, 'x')
        )
    }
}

/// One loadable segment, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Segment {
    pub vaddr: u64,
    pub mem_size: u64,
    pub file_offset: u64,
    pub file_size: u64,
    pub perms: Perms,
}

impl Segment {
    /// The whole pages this segment touches.
    pub fn pages(&self) -> Range<u64> {
        let start = self.vaddr & !(PAGE_SIZE - 1);
        // Cannot overflow: validated so `vaddr + mem_size` fits, and the
        // allowed range ends at most one page below u64::MAX.
        let end = (self.vaddr + self.mem_size).next_multiple_of(PAGE_SIZE);
        start..end
    }

    /// The file bytes to copy (validated to lie inside the file).
    pub fn file_range(&self) -> Range<usize> {
        self.file_offset as usize..(self.file_offset + self.file_size) as usize
    }
}

/// What to load: at most [`MAX_SEGMENTS`] segments, sorted by address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    pub entry: u64,
    segments: [Segment; MAX_SEGMENTS],
    count: usize,
}

impl LoadPlan {
    pub fn segments(&self) -> &[Segment] {
        &self.segments[..self.count]
    }

    /// From the first segment's first page to the last segment's last page.
    pub fn span(&self) -> Range<u64> {
        let s = self.segments();
        s[0].pages().start..s[s.len() - 1].pages().end
    }
}

/// Validates `data` as a static x86_64 executable whose segments all lie in
/// `allowed` (whole pages, `allowed.end` exclusive).
pub fn plan(data: &[u8], allowed: Range<u64>) -> Result<LoadPlan, ElfError> {
    let file = ElfBytes::<LittleEndian>::minimal_parse(data)
        .map_err(|e| ElfError::Malformed(describe(&e)))?;
    let hdr = &file.ehdr;
    if hdr.class != Class::ELF64 {
        return Err(ElfError::Not64Bit);
    }
    if hdr.e_machine != EM_X86_64 {
        return Err(ElfError::WrongMachine(hdr.e_machine));
    }
    if hdr.e_type != ET_EXEC {
        return Err(ElfError::NotExecutable(hdr.e_type));
    }
    let phdrs = file.segments().ok_or(ElfError::NoLoadableSegments)?;

    let mut segments = [Segment::default(); MAX_SEGMENTS];
    let mut count = 0;
    for ph in phdrs.iter() {
        match ph.p_type {
            PT_LOAD => {}
            PT_INTERP | PT_TLS => return Err(ElfError::UnsupportedSegment(ph.p_type)),
            _ => continue,
        }
        if ph.p_memsz == 0 {
            continue;
        }
        let i = count;
        if count == MAX_SEGMENTS {
            return Err(ElfError::TooManySegments);
        }
        if ph.p_filesz > ph.p_memsz {
            return Err(ElfError::FileSizeExceedsMemSize(i));
        }
        let file_end = ph.p_offset.checked_add(ph.p_filesz);
        if file_end.is_none_or(|end| end > data.len() as u64) {
            return Err(ElfError::SegmentOutsideFile(i));
        }
        let end = ph
            .p_vaddr
            .checked_add(ph.p_memsz)
            .and_then(|e| e.checked_next_multiple_of(PAGE_SIZE))
            .ok_or(ElfError::AddressOverflow(i))?;
        if ph.p_vaddr % PAGE_SIZE != ph.p_offset % PAGE_SIZE {
            return Err(ElfError::Misaligned(i));
        }
        let perms = Perms {
            read: ph.p_flags & PF_R != 0,
            write: ph.p_flags & PF_W != 0,
            execute: ph.p_flags & PF_X != 0,
        };
        if perms.write && perms.execute {
            return Err(ElfError::WritableAndExecutable(i));
        }
        let start = ph.p_vaddr & !(PAGE_SIZE - 1);
        if start < allowed.start || end > allowed.end {
            return Err(ElfError::OutsideAllowedRange(i));
        }
        segments[i] = Segment {
            vaddr: ph.p_vaddr,
            mem_size: ph.p_memsz,
            file_offset: ph.p_offset,
            file_size: ph.p_filesz,
            perms,
        };
        count += 1;
    }
    if count == 0 {
        return Err(ElfError::NoLoadableSegments);
    }

    // Sort by address (keeping original indices out of error messages would
    // lose information, so overlaps report positions in address order).
    segments[..count].sort_unstable_by_key(|s| s.vaddr);
    for i in 1..count {
        if segments[i].pages().start < segments[i - 1].pages().end {
            return Err(ElfError::OverlappingSegments(i - 1, i));
        }
    }
    let entry = hdr.e_entry;
    let in_text = segments[..count]
        .iter()
        .any(|s| s.perms.execute && s.vaddr <= entry && entry < s.vaddr + s.mem_size);
    if !in_text {
        return Err(ElfError::EntryNotExecutable(entry));
    }
    Ok(LoadPlan {
        entry,
        segments,
        count,
    })
}

#[cfg(test)]
mod tests;
