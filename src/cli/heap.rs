//! Giving the memory a finished phase freed back to the system.
//!
//! glibc's allocator keeps what a program frees for its next allocations, in one arena per thread
//! that allocated. A run frees its cases and their results before the formats are rendered, by other
//! threads with arenas of their own: without a trim, the freed pages stay resident beside the
//! renderers' new ones, and a 10,000-case run's peak grew by about 2 MiB (benches/RESULTS.md).

/// Returns the free pages of every arena to the system (`malloc_trim(0)`); a no-op where the C
/// library is not glibc.
pub fn give_back_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::os::raw::c_int;
        }
        // SAFETY: malloc_trim only returns free memory to the system; it takes the allocator's
        // locks itself and touches no memory the program holds.
        unsafe {
            malloc_trim(0);
        }
    }
}
