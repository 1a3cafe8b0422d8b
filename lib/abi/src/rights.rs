//! Rights: what a capability lets its holder do with the object.

use core::fmt;
use core::ops::{BitAnd, BitOr};

/// A set of rights. Only the defined bits can be set, so a `Rights` read
/// from user space goes through [`Rights::from_bits`] (strict) or
/// [`Rights::from_bits_truncate`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rights(u32);

impl Rights {
    pub const READ: Rights = Rights(1 << 0);
    pub const WRITE: Rights = Rights(1 << 1);
    /// May be mapped executable.
    pub const EXECUTE: Rights = Rights(1 << 2);
    /// May be passed to another cspace (IPC, spawn grants).
    pub const GRANT: Rights = Rights(1 << 3);
    /// May be copied or minted.
    pub const DERIVE: Rights = Rights(1 << 4);
    pub const SEND: Rights = Rights(1 << 5);
    pub const RECEIVE: Rights = Rights(1 << 6);
    pub const SIGNAL: Rights = Rights(1 << 7);
    pub const WAIT: Rights = Rights(1 << 8);
    /// Type-specific management (thread control, IRQ acknowledge, ...).
    pub const CONTROL: Rights = Rights(1 << 9);

    pub const NONE: Rights = Rights(0);
    pub const ALL: Rights = Rights((1 << 10) - 1);

    /// The one table of rights: each right, its name (docs/ABI.md, the
    /// `cap.denied` explanation) and, for the five generic rights, the
    /// letter of the compact form.
    pub const TABLE: [(Rights, &'static str, Option<char>); 10] = [
        (Self::READ, "read", Some('r')),
        (Self::WRITE, "write", Some('w')),
        (Self::EXECUTE, "execute", Some('x')),
        (Self::GRANT, "grant", Some('g')),
        (Self::DERIVE, "derive", Some('d')),
        (Self::SEND, "send", None),
        (Self::RECEIVE, "receive", None),
        (Self::SIGNAL, "signal", None),
        (Self::WAIT, "wait", None),
        (Self::CONTROL, "control", None),
    ];

    pub const fn bits(self) -> u32 {
        self.0
    }

    /// `None` if an undefined bit is set.
    pub const fn from_bits(bits: u32) -> Option<Rights> {
        if bits & !Self::ALL.0 == 0 {
            Some(Rights(bits))
        } else {
            None
        }
    }

    pub const fn from_bits_truncate(bits: u32) -> Rights {
        Rights(bits & Self::ALL.0)
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Every right in `other` is in `self`.
    pub const fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }

    pub const fn intersection(self, other: Rights) -> Rights {
        Rights(self.0 & other.0)
    }

    /// The rights in `self` that are not in `other`.
    pub const fn difference(self, other: Rights) -> Rights {
        Rights(self.0 & !other.0)
    }

    /// The rights by name, `write+execute` (`none` for the empty set): the
    /// long form, for explanations.
    pub const fn names(self) -> RightNames {
        RightNames(self)
    }

    /// The right named `name` in [`Rights::TABLE`].
    pub fn from_name(name: &str) -> Option<Rights> {
        Self::TABLE
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|&(r, _, _)| r)
    }
}

impl BitOr for Rights {
    type Output = Rights;
    fn bitor(self, rhs: Rights) -> Rights {
        self.union(rhs)
    }
}

impl BitAnd for Rights {
    type Output = Rights;
    fn bitand(self, rhs: Rights) -> Rights {
        self.intersection(rhs)
    }
}

/// The compact form, `rw--d+send+receive`: a letter or `-` for each of
/// read, write, execute, grant, derive, then `+name` for each
/// type-specific right.
impl fmt::Display for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (right, _, letter) in Self::TABLE {
            if let Some(letter) = letter {
                let c = if self.contains(right) { letter } else { '-' };
                write!(f, "{c}")?;
            }
        }
        for (right, name, letter) in Self::TABLE {
            if letter.is_none() && self.contains(right) {
                write!(f, "+{name}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rights({self})")
    }
}

/// [`Rights::names`]: `write+execute`, or `none`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RightNames(pub Rights);

impl fmt::Display for RightNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (r, name, _) in Rights::TABLE {
            if self.0.contains(r) {
                if !first {
                    f.write_str("+")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}
