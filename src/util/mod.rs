//! Small shared loops and helpers used by several components.

pub mod backoff;
pub mod clock;
pub mod fs;
pub mod memory;
pub mod paths;
pub mod secret;
