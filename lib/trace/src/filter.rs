//! Which categories are recorded: set at boot from `trace=SPEC` and
//! changed at run time. A trace point checks [`Filter::enabled`] before it
//! builds a record, so a category that is off costs one load and a branch.

use crate::event::{Categories, Category};
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// The category mask, shared by all CPUs. [`Category::Trace`] is always
/// on: a lost record must never go unreported.
///
/// Loads and stores are `Relaxed`: the mask publishes no other data, and
/// a CPU that sees a change a little late records (or skips) a few events
/// around the moment of the change, which is all a switch can promise.
#[derive(Debug)]
pub struct Filter(AtomicU32);

impl Filter {
    pub const fn new(categories: Categories) -> Filter {
        Filter(AtomicU32::new(
            categories.union(Category::Trace.bit()).bits(),
        ))
    }

    pub fn enabled(&self, category: Category) -> bool {
        self.get().contains(category)
    }

    pub fn get(&self) -> Categories {
        Categories::from_bits_truncate(self.0.load(Relaxed))
    }

    pub fn set(&self, categories: Categories) {
        self.0
            .store(categories.union(Category::Trace.bit()).bits(), Relaxed);
    }

    pub fn enable(&self, categories: Categories) {
        self.0.fetch_or(categories.bits(), Relaxed);
    }

    pub fn disable(&self, categories: Categories) {
        let off = categories.difference(Category::Trace.bit());
        self.0.fetch_and(!off.bits(), Relaxed);
    }
}

impl Default for Filter {
    fn default() -> Filter {
        Filter::new(Categories::DEFAULT)
    }
}

/// Why a `trace=` value was refused. Borrows the offending word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecError<'a> {
    Empty,
    /// Two commas in a row, or a comma at either end.
    EmptyWord,
    /// Not a category name, `all`, `none` or `default`.
    UnknownName(&'a str),
}

impl fmt::Display for SpecError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::Empty => f.write_str("empty trace category list"),
            SpecError::EmptyWord => f.write_str("empty word in trace category list"),
            SpecError::UnknownName(word) => {
                write!(f, "unknown trace category `{word}` (known:")?;
                for c in Category::ALL {
                    write!(f, " {c}")?;
                }
                f.write_str(" all none default)")
            }
        }
    }
}

impl core::error::Error for SpecError<'_> {}

/// Parses the value of `trace=`: comma-separated words applied left to
/// right. A category name, `all` or `default` adds those categories;
/// with a leading `-` it removes them. `none` empties the set. A list
/// that starts with a removal starts from the default set, so
/// `trace=-mem` means "the defaults without memory events"; any other
/// list starts empty, so `trace=ipc` means "IPC only". Surrounding
/// spaces are ignored; names are lowercase. [`Category::Trace`] may be
/// named but is on regardless (see [`Filter`]).
pub fn parse_spec(spec: &str) -> Result<Categories, SpecError<'_>> {
    if spec.trim().is_empty() {
        return Err(SpecError::Empty);
    }
    let mut set = if spec.trim_start().starts_with('-') {
        Categories::DEFAULT
    } else {
        Categories::NONE
    };
    for word in spec.split(',').map(str::trim) {
        let (remove, name) = match word.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, word),
        };
        if name.is_empty() {
            return Err(SpecError::EmptyWord);
        }
        let named = match name {
            "all" => Categories::ALL,
            "default" => Categories::DEFAULT,
            "none" if !remove => {
                set = Categories::NONE;
                continue;
            }
            _ => Category::from_name(name)
                .ok_or(SpecError::UnknownName(word))?
                .bit(),
        };
        set = if remove {
            set.difference(named)
        } else {
            set.union(named)
        };
    }
    Ok(set)
}
