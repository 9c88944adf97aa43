//! The binary's allocator: mimalloc instead of glibc's `malloc` (issue 18's allocator
//! experiment, BENCHMARKS.md: ~10% fewer instructions per request), built without
//! transparent huge pages, which would add ~10 MiB of idle RSS.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
