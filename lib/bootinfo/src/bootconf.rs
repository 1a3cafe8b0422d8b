//! `boot.conf`: what the loader loads, read from `\ferrous\boot.conf` on the
//! boot volume. One `key = value` per line, `#` starts a comment:
//!
//! ```text
//! kernel  = kernel.elf            # file under \ferrous\ (default kernel.elf)
//! cmdline = log=info test=boot    # the kernel command line, verbatim
//! module  = init init.elf         # a boot module: name, then file
//! ```
//!
//! Unknown keys and malformed lines are errors with a line number: a typo
//! must not silently boot something else.

use crate::MODULE_NAME_LEN;
use core::fmt;

/// One meaningful line of `boot.conf`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    Kernel(&'a str),
    Cmdline(&'a str),
    Module { name: &'a str, file: &'a str },
}

/// A defect in `boot.conf`, with its 1-based line number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfError<'a> {
    MissingEquals {
        line: usize,
    },
    UnknownKey {
        line: usize,
        key: &'a str,
    },
    EmptyValue {
        line: usize,
        key: &'a str,
    },
    /// `module =` needs exactly a name and a file.
    BadModule {
        line: usize,
    },
    /// Module name longer than [`MODULE_NAME_LEN`] or with a path separator.
    BadModuleName {
        line: usize,
        name: &'a str,
    },
    /// A file name that would leave `\ferrous\`.
    BadPath {
        line: usize,
        path: &'a str,
    },
    Duplicate {
        line: usize,
        key: &'a str,
    },
}

impl fmt::Display for ConfError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ConfError::MissingEquals { line } => write!(f, "line {line}: expected `key = value`"),
            ConfError::UnknownKey { line, key } => write!(f, "line {line}: unknown key `{key}`"),
            ConfError::EmptyValue { line, key } => write!(f, "line {line}: `{key}` has no value"),
            ConfError::BadModule { line } => {
                write!(f, "line {line}: expected `module = <name> <file>`")
            }
            ConfError::BadModuleName { line, name } => write!(
                f,
                "line {line}: module name `{name}` is longer than {MODULE_NAME_LEN} bytes or has a path separator"
            ),
            ConfError::BadPath { line, path } => {
                write!(
                    f,
                    "line {line}: file `{path}` must be a plain name under \\ferrous\\"
                )
            }
            ConfError::Duplicate { line, key } => write!(f, "line {line}: `{key}` given twice"),
        }
    }
}

pub(crate) fn plain_file_name(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', ':'])
}

/// Parses one line; `Ok(None)` for blank lines and comments.
pub fn parse_line(line_no: usize, raw: &str) -> Result<Option<Entry<'_>>, ConfError<'_>> {
    let text = raw.split('#').next().unwrap_or("").trim();
    if text.is_empty() {
        return Ok(None);
    }
    let (key, value) = text
        .split_once('=')
        .ok_or(ConfError::MissingEquals { line: line_no })?;
    let (key, value) = (key.trim(), value.trim());
    let line = line_no;
    match key {
        "kernel" | "cmdline" | "module" => {}
        _ => return Err(ConfError::UnknownKey { line, key }),
    }
    if value.is_empty() && key != "cmdline" {
        return Err(ConfError::EmptyValue { line, key });
    }
    Ok(Some(match key {
        "kernel" => {
            if !plain_file_name(value) {
                return Err(ConfError::BadPath { line, path: value });
            }
            Entry::Kernel(value)
        }
        "cmdline" => Entry::Cmdline(value),
        _ => {
            let mut words = value.split_whitespace();
            let (Some(name), Some(file), None) = (words.next(), words.next(), words.next()) else {
                return Err(ConfError::BadModule { line });
            };
            if name.len() > MODULE_NAME_LEN || name.contains(['/', '\\']) {
                return Err(ConfError::BadModuleName { line, name });
            }
            if !plain_file_name(file) {
                return Err(ConfError::BadPath { line, path: file });
            }
            Entry::Module { name, file }
        }
    }))
}

/// The whole file, checked: at most one `kernel` and one `cmdline`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootConf<'a> {
    text: &'a str,
    pub kernel: &'a str,
    pub cmdline: &'a str,
}

pub const DEFAULT_KERNEL: &str = "kernel.elf";

impl<'a> BootConf<'a> {
    pub fn parse(text: &'a str) -> Result<BootConf<'a>, ConfError<'a>> {
        let mut kernel = None;
        let mut cmdline = None;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            match parse_line(line, raw)? {
                Some(Entry::Kernel(k)) => {
                    if kernel.replace(k).is_some() {
                        return Err(ConfError::Duplicate {
                            line,
                            key: "kernel",
                        });
                    }
                }
                Some(Entry::Cmdline(c)) => {
                    if cmdline.replace(c).is_some() {
                        return Err(ConfError::Duplicate {
                            line,
                            key: "cmdline",
                        });
                    }
                }
                Some(Entry::Module { .. }) | None => {}
            }
        }
        Ok(BootConf {
            text,
            kernel: kernel.unwrap_or(DEFAULT_KERNEL),
            cmdline: cmdline.unwrap_or(""),
        })
    }

    /// `(name, file)` of each module, in file order.
    pub fn modules(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.text
            .lines()
            .enumerate()
            .filter_map(|(i, l)| match parse_line(i + 1, l) {
                Ok(Some(Entry::Module { name, file })) => Some((name, file)),
                _ => None,
            })
    }
}
