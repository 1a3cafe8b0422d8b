//! `syscalls!`: generates everything about the system calls from the one
//! table in `syscalls.rs`.
//!
//! A row:
//!
//! ```text
//! /// docs
//! 2 debug_write => DebugWrite(console: Handle = handle, buf: UserPtr = ptr,
//!                            len: u64 = len(buf, BYTES_DEBUG)) -> ();
//! ```
//!
//! is the number, the name, the [`crate::Syscall`] variant, the arguments
//! in register order (each with its type and the `Args` check that decodes
//! it, which may name arguments decoded before it) and the type of the
//! result. A field may end in `as hex` (or `as words`, `as info`) to choose
//! how traces print it. `DebugWrite[1](...)` would start at the second
//! register, the first being reserved (it must be zero).
//!
//! From the rows come: [`crate::Sysno`] (numbers and names), its
//! `arg_count`, the [`crate::Syscall`] enum, `decode`, `encode`, `sysno`,
//! `Display`, and [`crate::calls`]: one typed constructor per call that
//! the user runtime turns into a system call with a typed result.

macro_rules! syscalls {
    (
        $(
            $(#[$doc:meta])*
            $num:literal $name:ident => $variant:ident $([$skip:literal])?
                ( $( $field:ident : $fty:ty = $check:ident $( ( $($carg:expr),* ) )? $(as $show:ident)? ),* )
                -> $ret:ty;
        )*
    ) => {
        numbered! {
            /// A system-call number, passed in `rax`. Numbers are stable and,
            /// since version 2 (which gave 12 to `cap_delete`), never reused;
            /// 0 is never assigned. The table in `syscalls.rs` documents each
            /// call; docs/ABI.md says the same for readers.
            pub enum Sysno {
                $( $(#[$doc])* $variant = $num => stringify!($name), )*
            }
        }

        impl Sysno {
            /// How many argument registers the call uses; the rest must be
            /// zero.
            pub const fn arg_count(self) -> usize {
                match self {
                    $( Sysno::$variant => syscalls!(@skip $($skip)?) $(+ <$fty as $crate::call::Reg>::WIDTH)*, )*
                }
            }
        }

        /// A system call with its arguments, as [`Syscall::decode`] accepts
        /// them. Argument fields are in register order; lengths are in
        /// bytes. The table in `syscalls.rs` documents each call.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Syscall {
            $( $(#[$doc])* $variant { $( $field: $fty ),* }, )*
        }

        impl Syscall {
            /// The call for `rax` = `nr` and the argument registers, in
            /// [`crate::ARG_REGISTERS`] order. Checks run in argument order
            /// and the first failure is returned, so the result is
            /// deterministic. A call that decodes is in canonical form:
            /// [`Syscall::encode`] gives back exactly `(nr, args)`.
            #[allow(unused_assignments)]
            pub fn decode(nr: u64, args: [u64; 6]) -> Result<Syscall, SysError> {
                let sysno = Sysno::from_raw(nr).ok_or(SysError::UnknownSyscall { nr })?;
                let a = Args(args);
                let call = match sysno {
                    $(
                        Sysno::$variant => {
                            #[allow(unused_mut, unused_variables)]
                            let mut i: usize = syscalls!(@skip $($skip)?);
                            a.zero_below(i)?;
                            $(
                                let $field: $fty = a.$check(i $(, $($carg),*)?)?;
                                i += <$fty as $crate::call::Reg>::WIDTH;
                            )*
                            Syscall::$variant { $( $field ),* }
                        }
                    )*
                };
                a.unused_from(sysno.arg_count())?;
                Ok(call)
            }

            /// `(rax, argument registers)`, unused registers zero.
            // Inlined, a call whose variant is known folds to a few moves.
            #[inline]
            #[allow(unused_assignments)]
            pub fn encode(&self) -> (u64, [u64; 6]) {
                let mut out = [0u64; 6];
                match *self {
                    $(
                        Syscall::$variant { $( $field ),* } => {
                            #[allow(unused_mut, unused_variables)]
                            let mut i: usize = syscalls!(@skip $($skip)?);
                            $(
                                $crate::call::Reg::put(&$field, &mut out[i..]);
                                i += <$fty as $crate::call::Reg>::WIDTH;
                            )*
                        }
                    )*
                }
                (self.sysno() as u64, out)
            }

            pub const fn sysno(&self) -> Sysno {
                match self {
                    $( Syscall::$variant { .. } => Sysno::$variant, )*
                }
            }
        }

        /// For traces: `mem_map(space=h2, addr=0x0, len=0x2000, perms=rw-)`.
        impl fmt::Display for Syscall {
            #[allow(unused_assignments)]
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(", self.sysno())?;
                match *self {
                    $(
                        Syscall::$variant { $( $field ),* } => {
                            #[allow(unused_mut, unused_variables)]
                            let mut sep = "";
                            $(
                                write!(f, "{sep}{}=", stringify!($field))?;
                                syscalls!(@show f, $field $(, $show)?);
                                sep = ", ";
                            )*
                        }
                    )*
                }
                f.write_str(")")
            }
        }

        /// One typed constructor per system call: `calls::debug_write(console,
        /// buf, len)` is a [`Call`] whose result the user runtime decodes as
        /// the call's result type.
        pub mod calls {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$doc])*
                pub const fn $name($( $field: $fty ),*) -> Call<$ret> {
                    Call::new(Syscall::$variant { $( $field ),* })
                }
            )*
        }
    };

    (@skip) => { 0 };
    (@skip $n:literal) => { $n };

    (@show $f:ident, $v:ident) => { write!($f, "{}", $v)? };
    (@show $f:ident, $v:ident, hex) => { write!($f, "{:#x}", $v)? };
    (@show $f:ident, $v:ident, words) => { write!($f, "{:x?}", $v)? };
    (@show $f:ident, $v:ident, info) => { write!($f, "[{}]", $v)? };
}
