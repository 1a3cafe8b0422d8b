//! Why a capability check failed: the reason codes `cap.denied` trace
//! records carry.

numbered! {
    /// Why a capability check failed (`cap.denied`).
    pub enum DenyReason: u64 {
        EmptySlot = 1 => "empty_slot",
        SlotOutOfRange = 2 => "slot_out_of_range",
        WrongType = 3 => "wrong_type",
        MissingRight = 4 => "missing_right",
        Revoked = 5 => "revoked",
        SlotOccupied = 6 => "slot_occupied",
        BadgeAlreadySet = 7 => "badge_already_set",
        TableFull = 8 => "table_full",
        OutOfMemory = 9 => "out_of_memory",
        /// The caller's process has ended.
        ProcessEnded = 10 => "process_ended",
    }
}
