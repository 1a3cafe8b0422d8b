//! Page-table entry bits and the permission set they encode.

pub const PRESENT: u64 = 1 << 0;
pub const WRITABLE: u64 = 1 << 1;
pub const USER: u64 = 1 << 2;
pub const WRITE_THROUGH: u64 = 1 << 3;
pub const CACHE_DISABLE: u64 = 1 << 4;
pub const HUGE: u64 = 1 << 7;
pub const GLOBAL: u64 = 1 << 8;
pub const NO_EXECUTE: u64 = 1 << 63;
/// Bits 9..12 of an entry: the MMU ignores them; [`Flags::soft`] lives there.
pub const SOFT_SHIFT: u32 = 9;
pub const SOFT_MASK: u64 = 0b111 << SOFT_SHIFT;
/// Physical address bits 12..52 of an entry.
pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// Permissions and attributes of a mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    pub writable: bool,
    pub executable: bool,
    pub user: bool,
    /// Kept in the TLB across address-space switches (kernel pages).
    pub global: bool,
    /// Uncached (device memory).
    pub uncached: bool,
    /// Three bits of the leaf the MMU ignores (only the low three count):
    /// the owner's own facts about the mapping, kept with it. The kernel
    /// records there whether it owns the frame and what the mapping may
    /// become (`mm::uspace::Soft`).
    pub soft: u8,
}

impl Flags {
    pub const KERNEL_RO: Flags = Flags {
        writable: false,
        executable: false,
        user: false,
        global: true,
        uncached: false,
        soft: 0,
    };
    pub const KERNEL_RW: Flags = Flags {
        writable: true,
        ..Flags::KERNEL_RO
    };
    pub const KERNEL_RX: Flags = Flags {
        executable: true,
        ..Flags::KERNEL_RO
    };
    pub const USER_RO: Flags = Flags {
        writable: false,
        executable: false,
        user: true,
        global: false,
        uncached: false,
        soft: 0,
    };
    pub const USER_RW: Flags = Flags {
        writable: true,
        ..Flags::USER_RO
    };
    pub const USER_RX: Flags = Flags {
        executable: true,
        ..Flags::USER_RO
    };

    /// A present leaf entry for `frame` with these permissions.
    pub fn leaf_bits(self, frame: u64, huge: bool) -> u64 {
        let mut e = frame | PRESENT;
        if self.writable {
            e |= WRITABLE;
        }
        if self.user {
            e |= USER;
        }
        if !self.executable {
            e |= NO_EXECUTE;
        }
        if self.global {
            e |= GLOBAL;
        }
        if self.uncached {
            e |= CACHE_DISABLE | WRITE_THROUGH;
        }
        if huge {
            e |= HUGE;
        }
        e | (u64::from(self.soft) << SOFT_SHIFT) & SOFT_MASK
    }

    /// These permissions with `soft` as the owner's bits.
    pub const fn with_soft(self, soft: u8) -> Flags {
        Flags { soft, ..self }
    }

    /// The permissions a leaf entry grants on its own.
    pub fn from_leaf(e: u64) -> Flags {
        Flags {
            writable: e & WRITABLE != 0,
            executable: e & NO_EXECUTE == 0,
            user: e & USER != 0,
            global: e & GLOBAL != 0,
            uncached: e & CACHE_DISABLE != 0,
            soft: ((e & SOFT_MASK) >> SOFT_SHIFT) as u8,
        }
    }
}

impl core::fmt::Display for Flags {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let c = |b: bool, ch: char| if b { ch } else { '-' };
        write!(
            f,
            "r{}{}{}{}",
            c(self.writable, 'w'),
            c(self.executable, 'x'),
            if self.user { " user" } else { " kernel" },
            if self.global { " global" } else { "" }
        )
    }
}
