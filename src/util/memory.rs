//! Giving memory back to the operating system between evaluations.
//!
//! An evaluation allocates (and frees) a window's columns; glibc keeps freed
//! pages in its per-thread arenas, so an idle agent would hold on to its
//! largest window's memory. Trimming after each evaluation keeps idle resident
//! memory near what the agent actually uses.

/// Return free heap pages to the OS (glibc only; a no-op elsewhere).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it is
    // thread-safe and has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
