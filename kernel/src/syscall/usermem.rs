//! User memory as the calls name it: addresses are allegations (already
//! checked by `Syscall::decode` to lie in the user half) that only the
//! usercopy path, which survives faults, turns into bytes.

use crate::arch::usercopy::{self, UserCopyError};
use alloc::vec::Vec;
use ferrous_abi::{SysError, UserPtr};

fn error(e: UserCopyError, arg: u8) -> SysError {
    match e {
        UserCopyError::Fault { addr } => SysError::BadAddress { addr },
        UserCopyError::NotUserMemory { .. } => SysError::RangeOutsideUser { arg },
        UserCopyError::RangeWraps { .. } => SysError::LengthWraps { arg },
    }
}

/// Copies `len` bytes from the user buffer at `addr`, whose length is
/// argument `arg`. The kernel buffer is a fallible allocation.
pub fn copy_in(addr: UserPtr, len: u64, arg: u8) -> Result<Vec<u8>, SysError> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(len as usize)
        .map_err(|_| SysError::OutOfMemory)?;
    // alloc: reserved above (try_reserve_exact)
    buf.resize(len as usize, 0);
    usercopy::copy_from_user(&mut buf, addr.addr()).map_err(|e| error(e, arg))?;
    Ok(buf)
}

/// Copies `bytes` to the user buffer at `addr`, whose length is argument
/// `arg`.
pub fn copy_out(addr: UserPtr, bytes: &[u8], arg: u8) -> Result<(), SysError> {
    usercopy::copy_to_user(addr.addr(), bytes).map_err(|e| error(e, arg))
}
