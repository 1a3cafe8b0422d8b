//! `print!` and `println!`: one stack buffer per call, written to the
//! debug console with as few `debug_write` calls as the text needs.

use crate::sys;
use core::fmt;
use ferrous_abi::MAX_DEBUG_WRITE;

const BUF_LEN: usize = MAX_DEBUG_WRITE as usize;

/// Collects formatted text and writes it to the console in pieces of at
/// most `MAX_DEBUG_WRITE` bytes: when the buffer fills, and at [`flush`].
/// Console errors are ignored (there is nowhere to report them).
///
/// [`flush`]: ConsoleWriter::flush
pub struct ConsoleWriter {
    buf: [u8; BUF_LEN],
    len: usize,
}

impl ConsoleWriter {
    pub const fn new() -> Self {
        ConsoleWriter {
            buf: [0; BUF_LEN],
            len: 0,
        }
    }

    /// Writes what is buffered.
    pub fn flush(&mut self) {
        let _ = sys::debug_write(&self.buf[..self.len]);
        self.len = 0;
    }
}

impl Default for ConsoleWriter {
    fn default() -> Self {
        ConsoleWriter::new()
    }
}

impl fmt::Write for ConsoleWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut bytes = s.as_bytes();
        while !bytes.is_empty() {
            if self.len == BUF_LEN {
                self.flush();
            }
            let n = bytes.len().min(BUF_LEN - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
        }
        Ok(())
    }
}

/// The body of [`print!`](crate::print!); not for direct use.
#[doc(hidden)]
pub fn _print(args: fmt::Arguments<'_>) {
    let mut w = ConsoleWriter::new();
    let _ = fmt::Write::write_fmt(&mut w, args);
    w.flush();
}
