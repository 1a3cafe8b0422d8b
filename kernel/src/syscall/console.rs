//! `debug_write`.

use super::usermem::copy_in;
use crate::cap::{self, kind};
use crate::process::Process;
use ferrous_abi::{Handle, Rights, SysError, Sysno, UserPtr};

pub fn debug_write(me: &Process, console: Handle, buf: UserPtr, len: u64) -> Result<u64, SysError> {
    let op = Sysno::DebugWrite;
    cap::lookup_as::<kind::Console>(me.cspace, op, console, 0, Rights::WRITE)?;
    let bytes = copy_in(buf, len, 1)?;
    let text = core::str::from_utf8(&bytes).unwrap_or("<not UTF-8>");
    for line in text.lines() {
        log::info!("[{}] {line}", me.name);
    }
    Ok(0)
}
