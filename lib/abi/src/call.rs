//! Argument checks, register encoding and typed results: the pieces the
//! `syscalls!` table (`syscalls.rs`) is built from.

use crate::{
    CapInfo, ExitStatus, GRANT_SIZE, Handle, MAX_DEBUG_WRITE, MAX_GRANTS, MAX_SPAWN_ARGS,
    MAX_TRACE_READ, MSG_WORDS, MsgInfo, PAGE_SIZE, Perms, Received, RecvInfo, Rights, SysError,
    Syscall, USER_END, USER_MAP_END, UserPtr, decode_result,
};
use core::marker::PhantomData;

/// How a length argument is checked against its address.
pub(crate) struct LenRule {
    /// Most bytes allowed.
    max: u64,
    /// Whole pages, at least one.
    pages: bool,
    /// The range must end at or below this.
    end: u64,
}

pub(crate) const BYTES_DEBUG: LenRule = LenRule {
    max: MAX_DEBUG_WRITE,
    pages: false,
    end: USER_END,
};
pub(crate) const BYTES_SPAWN: LenRule = LenRule {
    max: MAX_SPAWN_ARGS,
    pages: false,
    end: USER_END,
};
pub(crate) const BYTES_TRACE: LenRule = LenRule {
    max: MAX_TRACE_READ,
    pages: false,
    end: USER_END,
};
const GRANT_BYTES: LenRule = LenRule {
    max: MAX_GRANTS * GRANT_SIZE,
    pages: false,
    end: USER_END,
};
/// No limit beyond the range's end.
pub(crate) const PAGES: LenRule = LenRule {
    max: u64::MAX,
    pages: true,
    end: USER_MAP_END,
};

/// The raw argument registers, with one checker per argument type. Each
/// takes the argument's index, which every error carries.
pub(crate) struct Args(pub(crate) [u64; 6]);

impl Args {
    pub(crate) fn handle(&self, i: usize) -> Result<Handle, SysError> {
        Ok(Handle(self.u32(i)?))
    }

    pub(crate) fn u32(&self, i: usize) -> Result<u32, SysError> {
        u32::try_from(self.0[i]).map_err(|_| SysError::ReservedBitsSet { arg: i as u8 })
    }

    /// Any value.
    pub(crate) fn raw(&self, i: usize) -> Result<u64, SysError> {
        Ok(self.0[i])
    }

    /// A user address: canonical and in the user half.
    pub(crate) fn ptr(&self, i: usize) -> Result<UserPtr, SysError> {
        self.user_ptr(i, false)
    }

    /// A page-aligned user address.
    pub(crate) fn page_ptr(&self, i: usize) -> Result<UserPtr, SysError> {
        self.user_ptr(i, true)
    }

    /// Canonical and in the user half; `page`: also page-aligned.
    fn user_ptr(&self, i: usize, page: bool) -> Result<UserPtr, SysError> {
        let addr = self.0[i];
        let arg = i as u8;
        // Canonical: bits 63..47 are copies of bit 47.
        let top = (addr as i64) >> 47;
        if top != 0 && top != -1 {
            return Err(SysError::NonCanonicalPointer { arg });
        }
        if addr >= USER_END {
            return Err(SysError::KernelPointer { arg });
        }
        if page && !addr.is_multiple_of(PAGE_SIZE) {
            return Err(SysError::Misaligned { arg });
        }
        Ok(UserPtr::new(addr))
    }

    /// The length at `i` of a range starting at the already checked `start`.
    pub(crate) fn len(&self, i: usize, start: UserPtr, rule: LenRule) -> Result<u64, SysError> {
        let len = self.0[i];
        let arg = i as u8;
        if rule.pages && len == 0 {
            return Err(SysError::ZeroLength { arg });
        }
        if rule.pages && !len.is_multiple_of(PAGE_SIZE) {
            return Err(SysError::Misaligned { arg });
        }
        let Some(end) = start.addr().checked_add(len) else {
            return Err(SysError::LengthWraps { arg });
        };
        if len > rule.max {
            return Err(SysError::LengthTooLarge { arg });
        }
        if end > rule.end {
            return Err(SysError::RangeOutsideUser { arg });
        }
        Ok(len)
    }

    /// A count of [`crate::Grant`]s at `start`: checked as their byte range.
    pub(crate) fn grant_count(&self, i: usize, start: UserPtr) -> Result<u64, SysError> {
        let count = self.0[i];
        if count > MAX_GRANTS {
            return Err(SysError::LengthTooLarge { arg: i as u8 });
        }
        let bytes = Args([count * GRANT_SIZE; 6]);
        bytes.len(i, start, GRANT_BYTES)?;
        Ok(count)
    }

    /// A byte count: whole pages, at least one.
    pub(crate) fn pages(&self, i: usize) -> Result<u64, SysError> {
        let n = self.0[i];
        let arg = i as u8;
        if n == 0 {
            return Err(SysError::ZeroLength { arg });
        }
        if !n.is_multiple_of(PAGE_SIZE) {
            return Err(SysError::Misaligned { arg });
        }
        Ok(n)
    }

    pub(crate) fn info(&self, i: usize) -> Result<MsgInfo, SysError> {
        MsgInfo::from_raw(self.0[i]).ok_or(SysError::ReservedBitsSet { arg: i as u8 })
    }

    /// A reply's [`MsgInfo`]: replies carry words only, so its capability
    /// slot must be 0.
    pub(crate) fn reply_info(&self, i: usize) -> Result<MsgInfo, SysError> {
        let info = self.info(i)?;
        if info.cap_slot != 0 {
            return Err(SysError::ReservedBitsSet { arg: i as u8 });
        }
        Ok(info)
    }

    /// The message words from register `i` on: any values, unused ones
    /// (beyond the word count) included.
    pub(crate) fn words(&self, i: usize) -> Result<[u64; MSG_WORDS], SysError> {
        Ok(core::array::from_fn(|w| self.0[i + w]))
    }

    pub(crate) fn rights(&self, i: usize) -> Result<Rights, SysError> {
        let bits = self.u32(i)?;
        Rights::from_bits(bits).ok_or(SysError::ReservedBitsSet { arg: i as u8 })
    }

    pub(crate) fn perms(&self, i: usize) -> Result<Perms, SysError> {
        let arg = i as u8;
        let perms = Perms::from_bits(self.0[i]).ok_or(SysError::ReservedBitsSet { arg })?;
        if perms.contains(Perms::WRITE | Perms::EXECUTE) {
            return Err(SysError::WriteAndExecute { arg });
        }
        if !perms.contains(Perms::READ) {
            return Err(SysError::PermsWithoutRead { arg });
        }
        Ok(perms)
    }

    /// Registers `0..below` are reserved and must be zero.
    pub(crate) fn zero_below(&self, below: usize) -> Result<(), SysError> {
        match (0..below).find(|&i| self.0[i] != 0) {
            Some(i) => Err(SysError::UnusedArgumentNotZero { arg: i as u8 }),
            None => Ok(()),
        }
    }

    /// Registers `from..6` must be zero.
    pub(crate) fn unused_from(&self, from: usize) -> Result<(), SysError> {
        match (from..6).find(|&i| self.0[i] != 0) {
            Some(i) => Err(SysError::UnusedArgumentNotZero { arg: i as u8 }),
            None => Ok(()),
        }
    }
}

/// An argument type: how many registers it fills and how it is written to
/// them ([`Syscall::encode`]).
pub trait Reg {
    const WIDTH: usize = 1;
    /// Writes the value to `out[..WIDTH]`.
    fn put(&self, out: &mut [u64]);
}

impl Reg for u64 {
    fn put(&self, out: &mut [u64]) {
        out[0] = *self;
    }
}

impl Reg for u32 {
    fn put(&self, out: &mut [u64]) {
        out[0] = u64::from(*self);
    }
}

impl Reg for Handle {
    fn put(&self, out: &mut [u64]) {
        out[0] = u64::from(self.0);
    }
}

impl Reg for UserPtr {
    fn put(&self, out: &mut [u64]) {
        out[0] = self.addr();
    }
}

impl Reg for Rights {
    fn put(&self, out: &mut [u64]) {
        out[0] = u64::from(self.bits());
    }
}

impl Reg for Perms {
    fn put(&self, out: &mut [u64]) {
        out[0] = self.bits();
    }
}

impl Reg for MsgInfo {
    fn put(&self, out: &mut [u64]) {
        out[0] = self.to_raw();
    }
}

impl Reg for [u64; MSG_WORDS] {
    const WIDTH: usize = MSG_WORDS;
    fn put(&self, out: &mut [u64]) {
        out[..MSG_WORDS].copy_from_slice(self);
    }
}

/// A call's result type, read from the result registers: `rax`, then
/// `[rdx, rdi, rsi, r10, r8, r9]` as the kernel left them.
pub trait CallResult: Sized {
    fn from_registers(rax: u64, out: [u64; 6]) -> Result<Self, SysError>;
}

impl CallResult for u64 {
    #[inline]
    fn from_registers(rax: u64, out: [u64; 6]) -> Result<u64, SysError> {
        decode_result(rax, out[0])
    }
}

/// Calls whose value is a 32-bit code or mask.
impl CallResult for u32 {
    #[inline]
    fn from_registers(rax: u64, out: [u64; 6]) -> Result<u32, SysError> {
        decode_result(rax, out[0]).map(|v| v as u32)
    }
}

impl CallResult for () {
    #[inline]
    fn from_registers(rax: u64, out: [u64; 6]) -> Result<(), SysError> {
        decode_result(rax, out[0]).map(|_| ())
    }
}

/// A new capability's slot.
impl CallResult for Handle {
    #[inline]
    fn from_registers(rax: u64, out: [u64; 6]) -> Result<Handle, SysError> {
        decode_result(rax, out[0]).map(|v| Handle(v as u32))
    }
}

/// `None`: a status word this ABI version does not know (a newer kernel).
impl CallResult for Option<ExitStatus> {
    #[inline]
    fn from_registers(rax: u64, out: [u64; 6]) -> Result<Self, SysError> {
        decode_result(rax, out[0]).map(ExitStatus::from_raw)
    }
}

/// `None`: a word this ABI version does not know (a newer kernel).
impl CallResult for Option<CapInfo> {
    #[inline]
    fn from_registers(rax: u64, out: [u64; 6]) -> Result<Self, SysError> {
        decode_result(rax, out[0]).map(CapInfo::from_raw)
    }
}

/// A message: `rdx` the badge, `rsi` the [`RecvInfo`], the words in
/// `rdi`, `r10`, `r8`, `r9`.
impl CallResult for Received {
    #[inline]
    fn from_registers(rax: u64, out: [u64; 6]) -> Result<Received, SysError> {
        decode_result(rax, out[0])?;
        Ok(Received {
            badge: out[0],
            info: RecvInfo::from_raw(out[2]),
            words: [out[1], out[3], out[4], out[5]],
        })
    }
}

/// A system call together with the type of its result: what the
/// constructors in [`crate::calls`] return. The user runtime makes the call
/// and reads the result with [`Call::result`].
#[derive(Debug, PartialEq, Eq)]
pub struct Call<R> {
    pub call: Syscall,
    result: PhantomData<fn() -> R>,
}

impl<R> Clone for Call<R> {
    fn clone(&self) -> Call<R> {
        *self
    }
}

impl<R> Copy for Call<R> {}

impl<R: CallResult> Call<R> {
    #[inline]
    pub const fn new(call: Syscall) -> Call<R> {
        Call {
            call,
            result: PhantomData,
        }
    }

    /// The typed result from the result registers.
    #[inline]
    pub fn result(rax: u64, out: [u64; 6]) -> Result<R, SysError> {
        R::from_registers(rax, out)
    }
}

impl Syscall {
    /// The IPC calls: on success the kernel writes the message registers
    /// (`rdx`, `rsi`, `rdi`, `r10`, `r8`, `r9`), whatever the call's result
    /// type, so a caller must treat them all as clobbered.
    #[inline]
    pub const fn writes_message_registers(&self) -> bool {
        matches!(
            self,
            Syscall::IpcSend { .. }
                | Syscall::IpcRecv { .. }
                | Syscall::IpcCall { .. }
                | Syscall::IpcReply { .. }
                | Syscall::IpcReplyRecv { .. }
        )
    }

    /// Calls that can take memory away from the caller (unmap or
    /// re-protect), which the user runtime makes only through `unsafe`
    /// wrappers.
    pub const fn may_take_memory(&self) -> bool {
        matches!(self, Syscall::MemUnmap { .. } | Syscall::MemProtect { .. })
    }
}
