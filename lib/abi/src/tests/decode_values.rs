//! Decode checks of single-register values: 32-bit handles, codes and
//! masks, rights, permissions and plain 64-bit values, for every such
//! argument of every call (the argument kinds of the samples).

use super::*;

/// Every handle argument of every call, the exit codes, the rights of
/// `cap_mint`, the CPU of `thread_set_cpu` and `trace_read` and the
/// categories of `trace_control`.
fn thirty_two_bits(kind: Kind) -> bool {
    matches!(kind, Kind::Handle | Kind::U32 | Kind::Rights)
}

#[test]
fn handles_exit_codes_and_rights_are_32_bits() {
    for (s, i, _) in args_where(thirty_two_bits) {
        for high in [1 << 32, 1 << 63] {
            assert_eq!(
                s.decode_with(i, s.regs[i] | high),
                Err(SysError::ReservedBitsSet { arg: i as u8 }),
                "{} argument {i}",
                s.call
            );
        }
    }
    // All 32 bits of a handle are the caller's: the kernel, not decode,
    // says whether the slot exists (round_trip.rs has such calls).
    for (s, i, _) in args_where(|k| k == Kind::Handle) {
        s.takes(i, u64::from(u32::MAX));
        s.takes(i, u64::from(CSPACE_SLOTS));
    }
    // Any 32-bit number decodes: an exit code; a CPU, whether online (or
    // with a ring, for trace_read) being the kernel's to say (`NoSuchCpu`),
    // ANY_CPU lifting the pin; a category mask (below).
    for (s, i, _) in args_where(|k| k == Kind::U32) {
        for value in [0, 1, 255, 256, ANY_CPU - 1, ANY_CPU] {
            s.takes(i, u64::from(value));
        }
    }
}

/// `trace_control` takes any 32-bit category mask: which bits name a
/// category is `ferrous-trace`'s, and the kernel refuses the others with
/// `ReservedBitsSet` on argument 1 (the error decode gives for bits above
/// 31).
#[test]
fn trace_categories_are_the_kernels_to_check() {
    for categories in [0, 1, 0x1bd, 0x1ff, 0x200, 1 << 31, u32::MAX] {
        let args = [7, u64::from(categories), 0, 0, 0, 0];
        assert_eq!(
            decode(Sysno::TraceControl, args),
            Ok(Syscall::TraceControl {
                trace: H,
                categories
            }),
            "{categories:#x}"
        );
    }
    for high in [1 << 32, 1 << 63, u64::MAX] {
        assert_eq!(
            decode(Sysno::TraceControl, [7, high, 0, 0, 0, 0]),
            Err(SysError::ReservedBitsSet { arg: 1 }),
            "{high:#x}"
        );
    }
}

/// `cap_mint`'s rights, and any other rights argument.
#[test]
fn mint_rights_are_defined_rights_only() {
    let first_undefined = u64::from(Rights::ALL.bits()) + 1;
    for (s, i, _) in args_where(|k| k == Kind::Rights) {
        for ok in [
            Rights::NONE,
            Rights::READ,
            Rights::WAIT | Rights::CONTROL,
            Rights::ALL,
        ] {
            s.takes(i, u64::from(ok.bits()));
        }
        for reserved in [
            first_undefined,
            first_undefined | 1,
            1 << 31,
            1 << 32,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            assert_eq!(
                s.decode_with(i, reserved),
                Err(SysError::ReservedBitsSet { arg: i as u8 }),
                "{} {reserved:#x}",
                s.call
            );
        }
    }
}

/// `mem_map`, `mem_protect` and `frame_map`: every permissions argument.
#[test]
fn perms_are_w_xor_x_and_readable() {
    for (s, i, _) in args_where(|k| k == Kind::Perms) {
        let arg = i as u8;
        for ok in [Perms::READ, Perms::READ_WRITE, Perms::READ_EXECUTE] {
            s.takes(i, ok.bits());
        }
        for wx in [Perms::WRITE | Perms::EXECUTE, Perms::ALL] {
            assert_eq!(
                s.decode_with(i, wx.bits()),
                Err(SysError::WriteAndExecute { arg }),
                "{} {wx}",
                s.call
            );
        }
        for unreadable in [Perms::NONE, Perms::WRITE, Perms::EXECUTE] {
            assert_eq!(
                s.decode_with(i, unreadable.bits()),
                Err(SysError::PermsWithoutRead { arg }),
                "{} {unreadable}",
                s.call
            );
        }
        for reserved in [8, 1 << 8, 1 << 63] {
            assert_eq!(
                s.decode_with(i, 1 | reserved),
                Err(SysError::ReservedBitsSet { arg }),
                "{}",
                s.call
            );
        }
    }
}

/// Timeouts, badges, thread arguments, signal bits, trace cursors.
#[test]
fn plain_values_take_any_bits() {
    for (s, i, _) in args_where(|k| k == Kind::Raw) {
        for v in [0, 1, 1 << 32, u64::MAX] {
            s.takes(i, v);
        }
    }
}
