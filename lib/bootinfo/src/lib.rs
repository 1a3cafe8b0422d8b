//! The hand-over from the UEFI loader to the kernel.
//!
//! The loader fills a [`BootInfo`] in memory it allocated as
//! [`MemoryKind::BOOT_INFO`] and passes its direct-map address in `rdi`. Every
//! pointer inside is a *physical* address; the kernel reaches it through the
//! direct map at [`PHYS_OFFSET`]. The layout is `#[repr(C)]`, versioned by
//! [`BOOT_INFO_VERSION`], and checked by [`BootInfo::check_header`] before the
//! kernel trusts anything else in it.
//!
//! This crate is pure data and logic so both sides, and host tests, share it.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod bootconf;
pub mod memmap;

pub use memmap::{MapError, MapSummary, MemoryKind, MemoryRegion};

/// `"FERROUS!"` little-endian: the first eight bytes of a valid [`BootInfo`].
pub const BOOT_INFO_MAGIC: u64 = u64::from_le_bytes(*b"FERROUS!");
/// Bumped on every incompatible layout change.
pub const BOOT_INFO_VERSION: u32 = 1;

/// Base of the direct map of all physical memory (PML4 slot 256).
pub const PHYS_OFFSET: u64 = 0xffff_8000_0000_0000;
/// Lowest address the kernel image may be linked at (top 2 GiB, PML4 slot 511).
pub const KERNEL_BASE: u64 = 0xffff_ffff_8000_0000;
/// The direct map always covers at least this much, so the local APIC and
/// I/O APIC registers below 4 GiB are reachable without extra mappings.
pub const MIN_DIRECT_MAP: u64 = 4 << 30;
/// Longest module name the loader stores.
pub const MODULE_NAME_LEN: usize = 48;

/// A physical `(address, count)` pair describing an array of `T`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhysSlice {
    pub phys: u64,
    pub len: u64,
}

/// A boot module (an initial user program, later): a file the loader read
/// from the boot volume into [`MemoryKind::MODULE`] memory.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Module {
    pub name: [u8; MODULE_NAME_LEN],
    pub name_len: u32,
    pub _reserved: u32,
    pub phys: u64,
    pub len: u64,
}

impl Module {
    /// Builds a module record; names longer than [`MODULE_NAME_LEN`] are refused.
    pub fn new(name: &str, phys: u64, len: u64) -> Option<Module> {
        let bytes = name.as_bytes();
        if bytes.len() > MODULE_NAME_LEN {
            return None;
        }
        let mut buf = [0u8; MODULE_NAME_LEN];
        buf[..bytes.len()].copy_from_slice(bytes);
        Some(Module {
            name: buf,
            name_len: bytes.len() as u32,
            _reserved: 0,
            phys,
            len,
        })
    }

    /// The module's name, or `"?"` if the loader wrote something that is not UTF-8.
    pub fn name(&self) -> &str {
        let len = (self.name_len as usize).min(MODULE_NAME_LEN);
        core::str::from_utf8(&self.name[..len]).unwrap_or("?")
    }
}

/// Pixel layout of a linear framebuffer.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    Rgb = 0,
    Bgr = 1,
    Unknown = 2,
}

/// A linear framebuffer handed over by the firmware; `phys == 0` means none.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Framebuffer {
    pub phys: u64,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub stride: u32,
    /// A [`PixelFormat`] discriminant; kept as an integer so an unexpected
    /// value from memory cannot be an invalid enum.
    pub format: u32,
}

impl Framebuffer {
    pub const NONE: Framebuffer = Framebuffer {
        phys: 0,
        size: 0,
        width: 0,
        height: 0,
        stride: 0,
        format: PixelFormat::Unknown as u32,
    };
}

/// Where the loader put the kernel image.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelImage {
    /// Lowest virtual address of any loadable segment.
    pub virt_base: u64,
    /// Bytes from `virt_base` to the end of the last segment.
    pub virt_size: u64,
    /// Size of the ELF file as read from the boot volume.
    pub file_size: u64,
}

/// Everything the kernel learns from the loader.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BootInfo {
    pub magic: u64,
    pub version: u32,
    /// `size_of::<BootInfo>()` as the loader saw it.
    pub size: u32,
    /// Where the direct map starts (always [`PHYS_OFFSET`] in version 1).
    pub phys_offset: u64,
    /// Bytes covered by the direct map, starting at physical 0.
    pub direct_map_size: u64,
    /// `[MemoryRegion]`, sorted, non-overlapping, adjacent equal kinds merged.
    pub memory_map: PhysSlice,
    /// `[Module]`.
    pub modules: PhysSlice,
    /// UTF-8 kernel command line, not NUL-terminated.
    pub cmdline: PhysSlice,
    /// Physical address of the ACPI RSDP (version 2 preferred), or 0.
    pub rsdp: u64,
    pub framebuffer: Framebuffer,
    pub kernel: KernelImage,
    /// TSC when the loader started, and right before it jumped to the kernel.
    pub loader_start_tsc: u64,
    pub handoff_tsc: u64,
}

/// Why a [`BootInfo`] header was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    BadMagic(u64),
    UnsupportedVersion(u32),
    SizeMismatch { expected: u32, found: u32 },
    UnexpectedPhysOffset(u64),
}

impl core::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HeaderError::BadMagic(m) => write!(f, "bad magic {m:#018x}"),
            HeaderError::UnsupportedVersion(v) => {
                write!(f, "version {v}, kernel understands {BOOT_INFO_VERSION}")
            }
            HeaderError::SizeMismatch { expected, found } => {
                write!(f, "size {found}, expected {expected}")
            }
            HeaderError::UnexpectedPhysOffset(o) => write!(f, "direct map at {o:#x}"),
        }
    }
}

impl BootInfo {
    /// An empty record with the header filled in; the loader fills the rest.
    pub const fn empty() -> BootInfo {
        BootInfo {
            magic: BOOT_INFO_MAGIC,
            version: BOOT_INFO_VERSION,
            size: core::mem::size_of::<BootInfo>() as u32,
            phys_offset: PHYS_OFFSET,
            direct_map_size: 0,
            memory_map: PhysSlice { phys: 0, len: 0 },
            modules: PhysSlice { phys: 0, len: 0 },
            cmdline: PhysSlice { phys: 0, len: 0 },
            rsdp: 0,
            framebuffer: Framebuffer::NONE,
            kernel: KernelImage {
                virt_base: 0,
                virt_size: 0,
                file_size: 0,
            },
            loader_start_tsc: 0,
            handoff_tsc: 0,
        }
    }

    /// Checks magic, version, size and the direct-map base: the fields the
    /// kernel must trust before it can read any other.
    pub fn check_header(&self) -> Result<(), HeaderError> {
        if self.magic != BOOT_INFO_MAGIC {
            return Err(HeaderError::BadMagic(self.magic));
        }
        if self.version != BOOT_INFO_VERSION {
            return Err(HeaderError::UnsupportedVersion(self.version));
        }
        let expected = core::mem::size_of::<BootInfo>() as u32;
        if self.size != expected {
            return Err(HeaderError::SizeMismatch {
                expected,
                found: self.size,
            });
        }
        if self.phys_offset != PHYS_OFFSET {
            return Err(HeaderError::UnexpectedPhysOffset(self.phys_offset));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
