//! How the process gives memory back. glibc raises its mmap threshold each
//! time a large block is freed, after which blocks of that size come from
//! the heap and stay resident when freed: every 19 MiB argon2 hash and every
//! 20 MB image decode would then leave its memory behind (measured: +19 MiB
//! per password check, for good). A fixed threshold keeps large blocks
//! mapped on their own, so freeing them returns them to the system.

/// Blocks of at least this size are mapped on their own and unmapped when freed.
#[cfg_attr(not(all(target_os = "linux", target_env = "gnu")), allow(dead_code))]
const LARGE_BLOCK: i32 = 1024 * 1024;

/// Call once at start, before other threads run.
pub fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes an allocator setting; called at start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE_BLOCK);
    }
}
