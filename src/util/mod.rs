//! Small shared loops and helpers used by several components.

pub mod backoff;
pub mod clock;
#[cfg(test)]
pub mod fields;
pub mod fs;
pub mod memory;
pub mod paths;
pub mod secret;
