//! `numbered!`: an enum of stable numbers with its names, generated from
//! one list. The ABI's and the trace's catalogues (system calls, error
//! codes, object types, deny reasons, event types, categories) all use it.

/// Defines a `#[repr]` enum of stable numbers together with `ALL`,
/// `from_raw`, `name`, `from_name` and `Display`, so the number, the name
/// and the lookup come from one list and cannot drift (a repeated number
/// fails to compile). The representation defaults to `u64`:
///
/// ```
/// ferrous_abi::numbered! {
///     /// Colours.
///     pub enum Colour: u8 {
///         Red = 1 => "red",
///         Green = 2 => "green",
///     }
/// }
/// assert_eq!(Colour::from_raw(2), Some(Colour::Green));
/// assert_eq!(Colour::Red.name(), "red");
/// assert_eq!(Colour::from_name("green"), Some(Colour::Green));
/// ```
#[macro_export]
macro_rules! numbered {
    (
        $(#[$meta:meta])*
        pub enum $ty:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $name:expr, )*
        }
    ) => {
        $crate::numbered! {
            $(#[$meta])*
            pub enum $ty: u64 {
                $( $(#[$vmeta])* $variant = $value => $name, )*
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub enum $ty:ident: $repr:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $name:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[repr($repr)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $ty {
            $( $(#[$vmeta])* $variant = $value, )*
        }

        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// `None` for a number this version does not define.
            pub const fn from_raw(raw: $repr) -> Option<$ty> {
                match raw {
                    $( $value => Some($ty::$variant), )*
                    _ => None,
                }
            }

            /// The stable name used in docs/ABI.md and in traces.
            pub const fn name(self) -> &'static str {
                match self {
                    $( $ty::$variant => $name, )*
                }
            }

            pub fn from_name(name: &str) -> Option<$ty> {
                $ty::ALL.iter().copied().find(|v| v.name() == name)
            }
        }

        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}
