//! Property tests of the calls: valid calls round trip, decode is total
//! and what it accepts is canonical.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn handle() -> impl Strategy<Value = Handle> {
    prop_oneof![0..32u32, 0..CSPACE_SLOTS + 2, any::<u32>()].prop_map(Handle)
}

/// Any set of defined rights.
pub(super) fn rights() -> impl Strategy<Value = Rights> {
    prop_oneof![
        1 => Just(Rights::NONE),
        1 => Just(Rights::ALL),
        6 => any::<u32>().prop_map(Rights::from_bits_truncate),
    ]
}

fn user_ptr() -> impl Strategy<Value = UserPtr> {
    prop_oneof![0..USER_END, Just(0), Just(USER_END - 1)].prop_map(UserPtr::new)
}

/// A valid `(start, len)` byte range below USER_END with len <= max.
fn byte_range(max: u64) -> impl Strategy<Value = (UserPtr, u64)> {
    (0..USER_END, 0..=max).prop_map(|(p, len)| (UserPtr::new(p.min(USER_END - len)), len))
}

/// A valid `(start, count)` of grants: the byte range below USER_END.
fn grant_range() -> impl Strategy<Value = (UserPtr, u64)> {
    (0..USER_END, 0..=MAX_GRANTS)
        .prop_map(|(p, count)| (UserPtr::new(p.min(USER_END - count * GRANT_SIZE)), count))
}

/// A valid page range: start may be 0 (anywhere, for mem_map).
fn page_range() -> impl Strategy<Value = (UserPtr, u64)> {
    let pages = USER_MAP_END / PAGE_SIZE;
    (0..pages, 1..=pages).prop_map(move |(start, n)| {
        let start = start.min(pages - n);
        (UserPtr::new(start * PAGE_SIZE), n * PAGE_SIZE)
    })
}

/// A byte count in whole pages, at least one; no upper limit.
fn pages() -> impl Strategy<Value = u64> {
    prop_oneof![1..=64u64, 1..=u64::MAX / PAGE_SIZE].prop_map(|n| n * PAGE_SIZE)
}

/// A page-aligned user address, 0 included (as `frame_map` takes it).
fn page_ptr() -> impl Strategy<Value = UserPtr> {
    prop_oneof![
        (0..USER_END / PAGE_SIZE).prop_map(|p| p * PAGE_SIZE),
        Just(0),
        Just(USER_MAP_END),
        Just(USER_END - PAGE_SIZE),
    ]
    .prop_map(UserPtr::new)
}

fn perms() -> impl Strategy<Value = Perms> {
    prop_oneof![
        Just(Perms::READ),
        Just(Perms::READ_WRITE),
        Just(Perms::READ_EXECUTE)
    ]
}

/// Any valid [`MsgInfo`]: 0 to [`MSG_WORDS`] words, the rest any value,
/// with the timeout often 0 (none).
pub(super) fn msg_info() -> impl Strategy<Value = MsgInfo> {
    (
        0..=MSG_WORDS as u8,
        any::<bool>(),
        prop_oneof![Just(0u8), any::<u8>()],
        prop_oneof![Just(0u32), 1..2000u32, any::<u32>()],
    )
        .prop_map(|(words, nonblocking, cap_slot, timeout_us)| MsgInfo {
            words,
            nonblocking,
            cap_slot,
            timeout_us,
        })
}

/// A valid reply's info: no capability (decode refuses one).
fn reply_info() -> impl Strategy<Value = MsgInfo> {
    msg_info().prop_map(|info| MsgInfo {
        cap_slot: 0,
        ..info
    })
}

/// Message words: often small or zero, as real messages are.
fn words() -> impl Strategy<Value = [u64; MSG_WORDS]> {
    proptest::array::uniform4(prop_oneof![Just(0u64), 0..256u64, any::<u64>()])
}

/// Info words: anything, or the fields near the defined ones with a
/// reserved bit now and then.
pub(super) fn msg_info_word() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        (
            0..8u64,
            0..2u64,
            0..=0xffu64,
            prop_oneof![Just(0u64), any::<u32>().prop_map(u64::from)],
            prop_oneof![4 => Just(0u64), 1 => (0..64u32).prop_map(|b| 1u64 << b)],
        )
            .prop_map(|(words, nb, slot, timeout, extra)| {
                words | nb << 4 | slot << 8 | timeout << 32 | extra
            }),
    ]
}

/// A CPU number: small, `ANY_CPU`, or anything.
fn cpu() -> impl Strategy<Value = u32> {
    prop_oneof![0..16u32, Just(ANY_CPU), any::<u32>()]
}

/// A category mask: defined bits (0 to 8) or any 32 bits; decode takes
/// both, the kernel refuses the undefined ones.
fn categories() -> impl Strategy<Value = u32> {
    prop_oneof![0..0x200u32, any::<u32>()]
}

/// A trace or metrics buffer: often a whole number of records after the
/// header, or of words.
fn trace() -> impl Strategy<Value = (UserPtr, u64)> {
    prop_oneof![
        byte_range(MAX_TRACE_READ),
        (
            0..USER_END,
            0..=(MAX_TRACE_READ - TRACE_READ_HEADER) / TRACE_RECORD
        )
            .prop_map(|(p, n)| {
                let len = TRACE_READ_HEADER + n * TRACE_RECORD;
                (UserPtr::new(p.min(USER_END - len)), len)
            }),
    ]
}

fn valid_call() -> impl Strategy<Value = Syscall> {
    prop_oneof![
        Just(Syscall::AbiVersion {}),
        (handle(), byte_range(MAX_DEBUG_WRITE))
            .prop_map(|(console, (buf, len))| { Syscall::DebugWrite { console, buf, len } }),
        any::<u32>().prop_map(|code| Syscall::ProcessExit { code }),
        (
            (handle(), handle()),
            byte_range(MAX_SPAWN_ARGS),
            grant_range()
        )
            .prop_map(
                |((module, memory), (args, args_len), (grants, grant_count))| {
                    Syscall::ProcessSpawn {
                        module,
                        memory,
                        args,
                        args_len,
                        grants,
                        grant_count,
                    }
                }
            ),
        (handle(), any::<u64>()).prop_map(|(process, timeout_ns)| Syscall::ProcessWait {
            process,
            timeout_ns
        }),
        Just(Syscall::ThreadYield {}),
        any::<u64>().prop_map(|ns| Syscall::ThreadSleep { ns }),
        Just(Syscall::ClockMonotonic {}),
        (handle(), page_range(), perms()).prop_map(|(space, (addr, len), perms)| {
            Syscall::MemMap {
                space,
                addr,
                len,
                perms,
            }
        }),
        (handle(), page_range()).prop_map(|(space, (addr, len))| Syscall::MemUnmap {
            space,
            addr,
            len
        }),
        (handle(), page_range(), perms()).prop_map(|(space, (addr, len), perms)| {
            Syscall::MemProtect {
                space,
                addr,
                len,
                perms,
            }
        }),
        handle().prop_map(|slot| Syscall::CapDelete { slot }),
        (handle(), handle()).prop_map(|(src, dest)| Syscall::CapCopy { src, dest }),
        (handle(), handle(), rights(), any::<u64>()).prop_map(|(src, dest, rights, badge)| {
            Syscall::CapMint {
                src,
                dest,
                rights,
                badge,
            }
        }),
        (handle(), handle()).prop_map(|(src, dest)| Syscall::CapMove { src, dest }),
        handle().prop_map(|slot| Syscall::CapRevoke { slot }),
        handle().prop_map(|slot| Syscall::CapIdentify { slot }),
        (handle(), pages()).prop_map(|(memory, bytes)| Syscall::MemorySplit { memory, bytes }),
        handle().prop_map(|memory| Syscall::MemoryInfo { memory }),
        (handle(), user_ptr(), user_ptr(), any::<u64>()).prop_map(
            |(space, entry, stack_top, arg)| Syscall::ThreadCreate {
                space,
                entry,
                stack_top,
                arg,
            }
        ),
        any::<u32>().prop_map(|code| Syscall::ThreadExit { code }),
        (handle(), any::<u64>())
            .prop_map(|(thread, timeout_ns)| Syscall::ThreadWait { thread, timeout_ns }),
        handle().prop_map(|process| Syscall::ProcessKill { process }),
        handle().prop_map(|memory| Syscall::EndpointCreate { memory }),
        handle().prop_map(|memory| Syscall::NotificationCreate { memory }),
        (handle(), msg_info(), words()).prop_map(|(endpoint, info, words)| Syscall::IpcSend {
            endpoint,
            info,
            words
        }),
        (handle(), msg_info()).prop_map(|(endpoint, info)| Syscall::IpcRecv { endpoint, info }),
        (handle(), msg_info(), words()).prop_map(|(endpoint, info, words)| Syscall::IpcCall {
            endpoint,
            info,
            words
        }),
        (reply_info(), words()).prop_map(|(info, words)| Syscall::IpcReply { info, words }),
        (handle(), msg_info(), words()).prop_map(|(endpoint, info, words)| {
            Syscall::IpcReplyRecv {
                endpoint,
                info,
                words,
            }
        }),
        (handle(), any::<u64>())
            .prop_map(|(notification, bits)| Syscall::NotificationSignal { notification, bits }),
        (handle(), any::<u64>()).prop_map(|(notification, timeout_ns)| Syscall::NotificationWait {
            notification,
            timeout_ns
        }),
        handle().prop_map(|notification| Syscall::NotificationPoll { notification }),
        (handle(), cpu()).prop_map(|(thread, cpu)| Syscall::ThreadSetCpu { thread, cpu }),
        (handle(), cpu(), any::<u64>(), trace()).prop_map(|(trace, cpu, cursor, (buf, len))| {
            Syscall::TraceRead {
                trace,
                cpu,
                cursor,
                buf,
                len,
            }
        }),
        (handle(), trace()).prop_map(|(object, (buf, len))| Syscall::MetricsRead {
            object,
            buf,
            len
        }),
        (handle(), categories())
            .prop_map(|(trace, categories)| Syscall::TraceControl { trace, categories }),
        (handle(), pages()).prop_map(|(memory, bytes)| Syscall::FrameCreate { memory, bytes }),
        (handle(), handle(), page_ptr(), perms()).prop_map(|(frame, space, addr, perms)| {
            Syscall::FrameMap {
                frame,
                space,
                addr,
                perms,
            }
        }),
    ]
}

/// Register values that hit the checks' edges often: zero, small numbers,
/// page multiples, rights and permissions around the defined bits, values
/// around USER_END and the canonical boundary, message infos around the
/// defined fields, lengths around the trace limit.
fn raw_word() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => msg_info_word(),
        4 => Just(0u64),
        2 => 0..16u64,
        2 => (0..64u64).prop_map(|p| p * PAGE_SIZE),
        1 => (0..USER_END / PAGE_SIZE).prop_map(|p| p * PAGE_SIZE),
        1 => 0..=2 * MAX_DEBUG_WRITE,
        1 => (MAX_TRACE_READ - 2 * PAGE_SIZE)..=(MAX_TRACE_READ + 2 * PAGE_SIZE),
        1 => 0..=2 * u64::from(Rights::ALL.bits()),
        1 => 0..=2 * Perms::ALL.bits() + 1,
        1 => (USER_END - 2 * PAGE_SIZE)..(USER_END + 2 * PAGE_SIZE),
        1 => 0xffff_7fff_ffff_f000..=0xffff_8000_0000_1000u64,
        1 => Just(u64::MAX),
        2 => any::<u64>(),
    ]
}

/// Mostly with the registers after a random prefix zero, as in real calls,
/// so that decode gets past the unused-register check often.
fn raw_args() -> impl Strategy<Value = [u64; 6]> {
    (proptest::array::uniform6(raw_word()), 0..=6usize, 0..4u8).prop_map(
        |(mut args, used, keep)| {
            if keep != 0 {
                args[used..].fill(0);
            }
            args
        },
    )
}

/// Every assigned number and a few beyond the last.
fn raw_nr() -> impl Strategy<Value = u64> {
    prop_oneof![8 => 0..44u64, 1 => any::<u64>()]
}

/// `(rax, args)`: random registers, or a valid call with one register
/// replaced, which probes each check right next to calls that pass.
fn raw_call() -> impl Strategy<Value = (u64, [u64; 6])> {
    let replace = |(call, i, word): (Syscall, usize, u64)| {
        let (nr, mut args) = call.encode();
        args[i] = word;
        (nr, args)
    };
    prop_oneof![
        (raw_nr(), raw_args()),
        (valid_call(), 0..6usize, raw_word()).prop_map(replace),
        // Values 0 to 7: every permission set, word count and small
        // handle, where one bit decides between a call and an error.
        (valid_call(), 0..6usize, 0..8u64).prop_map(replace),
    ]
}

proptest! {
    // Every case is a few hundred nanoseconds; search wider than the default.
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn valid_calls_round_trip(call in valid_call()) {
        let (nr, args) = call.encode();
        prop_assert_eq!(Syscall::decode(nr, args), Ok(call));
        prop_assert!(args[call.sysno().arg_count()..].iter().all(|&a| a == 0));
    }

    #[test]
    fn decode_is_total_and_accepted_input_is_canonical((nr, args) in raw_call()) {
        match Syscall::decode(nr, args) {
            Ok(call) => prop_assert_eq!(call.encode(), (nr, args)),
            Err(e) => {
                // Decode never consults kernel state, so only decode errors.
                prop_assert!(e.kind().unwrap().is_decode_error(), "{}", e);
                if let Some(arg) = e.arg() {
                    prop_assert!((arg as usize) < 6);
                }
                prop_assert_eq!(decode_result(e.code(), e.detail()), Err(e));
            }
        }
    }

    /// The trace calls' buffers decode exactly when the model says: a
    /// user address, no wrap, at most `MAX_TRACE_READ`, ending at or
    /// below `USER_END`; the cursor and the CPU never matter.
    #[test]
    fn traces_decode_exactly_when_the_range_is_valid(
        buf in raw_word(),
        len in raw_word(),
        cursor in any::<u64>(),
        cpu in cpu(),
    ) {
        let ok = buf < USER_END
            && len <= MAX_TRACE_READ
            && buf.checked_add(len).is_some_and(|end| end <= USER_END);
        let read = decode(Sysno::TraceRead, [7, u64::from(cpu), cursor, buf, len, 0]);
        prop_assert_eq!(read.is_ok(), ok, "{:?}", read);
        let metrics = decode(Sysno::MetricsRead, [7, buf, len, 0, 0, 0]);
        prop_assert_eq!(metrics.is_ok(), ok, "{:?}", metrics);
        // Both refuse the same way, naming their own length argument.
        if let (Err(r), Err(m)) = (read, metrics) {
            prop_assert_eq!(r.kind(), m.kind());
            let shift = |e: SysError| e.arg().map(|a| if a >= 3 { a - 2 } else { a });
            prop_assert_eq!(shift(r), m.arg());
        }
    }

    /// `frame_map` decodes exactly when the model says: handles of 32
    /// bits, a canonical page-aligned user address, and permissions as
    /// `mem_map` takes them; `frame_create` when the size is whole pages.
    #[test]
    fn frame_calls_decode_exactly_when_the_model_says(
        frame in raw_word(),
        space in raw_word(),
        addr in raw_word(),
        perms in raw_word(),
        bytes in raw_word(),
    ) {
        let handles = frame <= u64::from(u32::MAX) && space <= u64::from(u32::MAX);
        let addr_ok = addr < USER_END && addr.is_multiple_of(PAGE_SIZE);
        let perms_ok = [1, 3, 5].contains(&perms);
        let map = decode(Sysno::FrameMap, [frame, space, addr, perms, 0, 0]);
        prop_assert_eq!(map.is_ok(), handles && addr_ok && perms_ok, "{:?}", map);
        let create = decode(Sysno::FrameCreate, [frame, bytes, 0, 0, 0, 0]);
        let create_ok = frame <= u64::from(u32::MAX)
            && bytes != 0
            && bytes.is_multiple_of(PAGE_SIZE);
        prop_assert_eq!(create.is_ok(), create_ok, "{:?}", create);
    }
}

/// The raw strategy is only worth something if it gets past decode: check
/// that it produces accepted calls of every kind and every decode error.
#[test]
fn raw_strategy_reaches_every_call_and_decode_error() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = raw_call();
    let mut calls = BTreeSet::new();
    let mut errors = BTreeSet::new();
    // The rarest results, `RangeOutsideUser` and `WriteAndExecute`, need
    // a valid call with one register just past an edge: about ten each in
    // this many.
    for _ in 0..20_000 {
        let (nr, args) = strategy.new_tree(&mut runner).unwrap().current();
        match Syscall::decode(nr, args) {
            Ok(call) => calls.insert(call.sysno()),
            Err(e) => errors.insert(e.kind().unwrap()),
        };
    }
    assert_eq!(calls.len(), Sysno::ALL.len(), "{calls:?}");
    let decode_errors = ErrorCode::ALL.iter().filter(|c| c.is_decode_error());
    for c in decode_errors {
        assert!(errors.contains(c), "{c} never produced");
    }
}
