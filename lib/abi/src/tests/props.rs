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

/// A byte length up to `max`: often a whole number of trace records after
/// the header.
fn byte_len(max: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        0..=max,
        (0..=(max - TRACE_READ_HEADER) / TRACE_RECORD)
            .prop_map(|n| TRACE_READ_HEADER + n * TRACE_RECORD),
    ]
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

/// A valid value of an argument of kind `kind` on its own; a range's start
/// is fitted to its length by [`valid_call`].
fn valid_value(kind: Kind) -> BoxedStrategy<u64> {
    match kind {
        Kind::Zero => Just(0).boxed(),
        Kind::Handle => handle().prop_map(|h| u64::from(h.0)).boxed(),
        // An exit code, a CPU (`ANY_CPU` too) or a category mask (the
        // defined bits, 0 to 8, or any: decode takes both, the kernel
        // refuses the undefined ones).
        Kind::U32 => prop_oneof![cpu(), 0..0x200u32].prop_map(u64::from).boxed(),
        Kind::Raw => any::<u64>().boxed(),
        // Message words: often small or zero, as real messages are.
        Kind::Word => prop_oneof![Just(0u64), 0..256u64, any::<u64>()].boxed(),
        Kind::Ptr => user_ptr().prop_map(UserPtr::addr).boxed(),
        Kind::Bytes(max) => byte_len(max).boxed(),
        Kind::Grants => (0..=MAX_GRANTS).boxed(),
        Kind::PagePtr => page_ptr().prop_map(UserPtr::addr).boxed(),
        Kind::PageLen => (1..=USER_MAP_END / PAGE_SIZE)
            .prop_map(|n| n * PAGE_SIZE)
            .boxed(),
        Kind::Pages => pages().boxed(),
        Kind::Rights => rights().prop_map(|r| u64::from(r.bits())).boxed(),
        Kind::Perms => perms().prop_map(Perms::bits).boxed(),
        Kind::Info => msg_info().prop_map(MsgInfo::to_raw).boxed(),
        Kind::ReplyInfo => reply_info().prop_map(MsgInfo::to_raw).boxed(),
    }
}

/// A valid call of any number, as `(rax, registers)`: each argument valid
/// for its kind, each range's start moved down so that the range ends in
/// user space.
fn valid_call() -> impl Strategy<Value = (u64, [u64; 6])> {
    proptest::sample::select(Sysno::ALL).prop_flat_map(|nr| {
        let s = sample(nr);
        let values: Vec<BoxedStrategy<u64>> = s.args.iter().map(|&k| valid_value(k)).collect();
        values.prop_map(move |values| {
            let mut regs = regs(&values);
            for (i, &kind) in s.args.iter().enumerate() {
                let (len, end) = match kind {
                    Kind::Bytes(_) => (regs[i], USER_END),
                    Kind::Grants => (regs[i] * GRANT_SIZE, USER_END),
                    Kind::PageLen => (regs[i], USER_MAP_END),
                    _ => continue,
                };
                regs[i - 1] = regs[i - 1].min(end - len);
            }
            (nr as u64, regs)
        })
    })
}

/// What decode says of `(nr, regs)` by the argument kinds of the call's
/// sample and docs/ABI.md's rules for each: the first argument that breaks
/// its rule, in register order, then the first unused register that is not
/// zero.
fn expected(nr: u64, regs: [u64; 6]) -> Result<(), SysError> {
    use SysError as E;
    let Some(sysno) = Sysno::from_raw(nr) else {
        return Err(E::UnknownSyscall { nr });
    };
    let s = sample(sysno);
    for (i, &kind) in s.args.iter().enumerate() {
        let (v, arg) = (regs[i], i as u8);
        let user = |v: u64| match v >> 47 {
            // Below 1 << 47: below USER_END.
            0 => Ok(()),
            0x1_ffff => Err(E::KernelPointer { arg }),
            _ => Err(E::NonCanonicalPointer { arg }),
        };
        // The range of `len` bytes at the register before.
        let range = |len: u64, max: u64, end: u64| {
            let stop = regs[i - 1].checked_add(len).ok_or(E::LengthWraps { arg })?;
            match () {
                _ if len > max => Err(E::LengthTooLarge { arg }),
                _ if stop > end => Err(E::RangeOutsideUser { arg }),
                _ => Ok(()),
            }
        };
        let whole_pages = |v: u64| match () {
            _ if v == 0 => Err(E::ZeroLength { arg }),
            _ if !v.is_multiple_of(PAGE_SIZE) => Err(E::Misaligned { arg }),
            _ => Ok(()),
        };
        let reserved = |bad: bool| {
            if bad {
                Err(E::ReservedBitsSet { arg })
            } else {
                Ok(())
            }
        };
        match kind {
            Kind::Zero if v != 0 => Err(E::UnusedArgumentNotZero { arg }),
            Kind::Zero | Kind::Raw | Kind::Word => Ok(()),
            Kind::Handle | Kind::U32 => reserved(v > u64::from(u32::MAX)),
            // The defined rights are the low ten bits.
            Kind::Rights => reserved(v > u64::from(Rights::ALL.bits())),
            Kind::Ptr => user(v),
            Kind::PagePtr if user(v).is_err() => user(v),
            Kind::PagePtr if !v.is_multiple_of(PAGE_SIZE) => Err(E::Misaligned { arg }),
            Kind::PagePtr => Ok(()),
            Kind::Bytes(max) => range(v, max, USER_END),
            Kind::Grants if v > MAX_GRANTS => Err(E::LengthTooLarge { arg }),
            Kind::Grants => range(v * GRANT_SIZE, MAX_GRANTS * GRANT_SIZE, USER_END),
            Kind::PageLen => whole_pages(v).and_then(|()| range(v, u64::MAX, USER_MAP_END)),
            Kind::Pages => whole_pages(v),
            Kind::Perms if v > 7 => Err(E::ReservedBitsSet { arg }),
            Kind::Perms if v & 6 == 6 => Err(E::WriteAndExecute { arg }),
            Kind::Perms if v & 1 == 0 => Err(E::PermsWithoutRead { arg }),
            Kind::Perms => Ok(()),
            Kind::Info | Kind::ReplyInfo => reserved(
                v & !MSG_INFO_DEFINED != 0
                    || v & 7 > MSG_WORDS as u64
                    || kind == Kind::ReplyInfo && v >> 8 & 0xff != 0,
            ),
        }?;
    }
    match (s.args.len()..6).find(|&i| regs[i] != 0) {
        Some(i) => Err(E::UnusedArgumentNotZero { arg: i as u8 }),
        None => Ok(()),
    }
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
    let last = Sysno::ALL.iter().map(|&s| s as u64).max().unwrap();
    prop_oneof![8 => 0..last + 5, 1 => any::<u64>()]
}

/// `(rax, args)`: random registers, or a valid call with one register
/// replaced, which probes each check right next to calls that pass.
fn raw_call() -> impl Strategy<Value = (u64, [u64; 6])> {
    let replace = |((nr, mut args), i, word): ((u64, [u64; 6]), usize, u64)| {
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

    /// Registers valid by the argument kinds decode, and the call encodes
    /// back to them.
    #[test]
    fn valid_calls_round_trip((nr, args) in valid_call()) {
        let call = Syscall::decode(nr, args);
        prop_assert!(call.is_ok(), "{:?}: {:?}", args, call);
        let call = call.unwrap();
        prop_assert_eq!(call.encode(), (nr, args));
        prop_assert!(args[call.sysno().arg_count()..].iter().all(|&a| a == 0));
    }

    /// Decode refuses exactly what the argument kinds refuse, with the
    /// same error: every call, every argument, every rule.
    #[test]
    fn decode_follows_the_argument_kinds((nr, args) in raw_call()) {
        prop_assert_eq!(Syscall::decode(nr, args).map(|_| ()), expected(nr, args), "{:x?}", args);
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
