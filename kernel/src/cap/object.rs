//! The kernel objects capabilities name, and their types as Rust types
//! for the typed lookup ([`super::lookup_as`]).

use crate::memory::Memory;
use crate::process::{Process, UserThread};
use alloc::sync::Arc;
use ferrous_abi::ObjectType;

/// A kernel object a capability can name.
#[derive(Clone)]
pub enum Object {
    Memory(Arc<Memory>),
    /// A process's address space (the object is distinct from the process:
    /// it grants mapping and thread creation, not waiting or killing).
    AddressSpace(Arc<Process>),
    Process(Arc<Process>),
    Thread(Arc<UserThread>),
    Console,
    /// Boot module `i`.
    Module(usize),
    /// IRQ lines `first..first + count` (phase 3 gives them operations).
    IrqLines {
        first: u32,
        count: u32,
    },
    /// I/O ports `base..base + count`.
    IoPorts {
        base: u32,
        count: u32,
    },
    /// Physical addresses `base..base + len` that are not RAM.
    Mmio {
        base: u64,
        len: u64,
    },
    Endpoint(Arc<crate::ipc::EndpointObj>),
    Notification(Arc<crate::ipc::NotificationObj>),
    /// The kernel's trace rings and metrics.
    Trace,
    Frame(Arc<crate::frame::FrameObj>),
}

impl Object {
    pub fn kind(&self) -> ObjectType {
        match self {
            Object::Memory(_) => ObjectType::Memory,
            Object::AddressSpace(_) => ObjectType::AddressSpace,
            Object::Process(_) => ObjectType::Process,
            Object::Thread(_) => ObjectType::Thread,
            Object::Console => ObjectType::Console,
            Object::Module(_) => ObjectType::Module,
            Object::IrqLines { .. } => ObjectType::IrqLine,
            Object::IoPorts { .. } => ObjectType::IoPorts,
            Object::Mmio { .. } => ObjectType::MmioRegion,
            Object::Endpoint(_) => ObjectType::Endpoint,
            Object::Notification(_) => ObjectType::Notification,
            Object::Trace => ObjectType::Trace,
            Object::Frame(_) => ObjectType::Frame,
        }
    }

    /// For traces: the type and what distinguishes the object.
    pub fn describe(&self) -> impl core::fmt::Display + '_ {
        Described(self)
    }

    /// What happens when the last capability to the object is gone (also
    /// how a call undoes an object it made but could not hand out).
    pub fn destroyed(self) {
        match self {
            Object::Memory(m) => m.destroy(),
            // Ended by `run_destructions` without recursion.
            Object::Process(_) => {}
            // Every thread queued on it wakes with ObjectGone.
            Object::Endpoint(e) => crate::ipc::close_endpoint(e.id()),
            Object::Notification(n) => crate::ipc::close_notification(n.id()),
            Object::Frame(f) => f.unmap_all(),
            // An address space lives as long as its process; a thread until
            // it exits. Losing the capability only loses the authority.
            _ => {}
        }
    }
}

struct Described<'a>(&'a Object);

impl core::fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let kind = self.0.kind();
        match self.0 {
            Object::Memory(m) => write!(f, "{kind} ({:#x} bytes free)", m.available()),
            Object::AddressSpace(p) | Object::Process(p) => write!(f, "{kind} of {}", p.name),
            Object::Module(i) => write!(f, "{kind} {i}"),
            Object::IrqLines { first, count } => write!(f, "{kind} {first}+{count}"),
            Object::IoPorts { base, count } => write!(f, "{kind} {base:#x}+{count:#x}"),
            Object::Mmio { base, len } => write!(f, "{kind} {base:#x}+{len:#x}"),
            Object::Endpoint(e) => write!(f, "{kind} {}", e.id()),
            Object::Notification(n) => write!(f, "{kind} {}", n.id()),
            Object::Frame(fr) => write!(f, "{kind} ({:#x} bytes)", fr.len()),
            Object::Thread(_) | Object::Console | Object::Trace => write!(f, "{kind}"),
        }
    }
}

/// An object type as a Rust type, for [`lookup_as`]: the type the
/// capability must name and what the caller gets from the object.
pub trait Kind {
    const TYPE: ObjectType;
    type Ref;
    /// `None` only if the table disagrees with the capability (never).
    fn from_object(o: Object) -> Option<Self::Ref>;
}

/// The object kinds [`lookup_as`] takes, one marker type each.
pub mod kind {
    use super::{Kind, Object};
    use alloc::sync::Arc;
    use ferrous_abi::ObjectType;

    macro_rules! kinds {
        ($( $marker:ident: $ty:ident => $pat:pat => $val:expr, $ref:ty; )*) => {
            $(
                #[derive(Debug)]
                pub struct $marker;
                impl Kind for $marker {
                    const TYPE: ObjectType = ObjectType::$ty;
                    type Ref = $ref;
                    fn from_object(o: Object) -> Option<$ref> {
                        match o {
                            $pat => Some($val),
                            _ => None,
                        }
                    }
                }
            )*
        };
    }

    kinds! {
        Memory: Memory => Object::Memory(m) => m, Arc<crate::memory::Memory>;
        AddressSpace: AddressSpace => Object::AddressSpace(p) => p, Arc<crate::process::Process>;
        Process: Process => Object::Process(p) => p, Arc<crate::process::Process>;
        Thread: Thread => Object::Thread(t) => t, Arc<crate::process::UserThread>;
        Console: Console => Object::Console => (), ();
        Module: Module => Object::Module(i) => i, usize;
        Endpoint: Endpoint => Object::Endpoint(e) => e, Arc<crate::ipc::EndpointObj>;
        Notification: Notification => Object::Notification(n) => n, Arc<crate::ipc::NotificationObj>;
        Trace: Trace => Object::Trace => (), ();
        Frame: Frame => Object::Frame(f) => f, Arc<crate::frame::FrameObj>;
    }
}
