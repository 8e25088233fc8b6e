//! The memory allocator every Skiff binary installs:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: crate::alloc::Allocator = crate::alloc::Allocator;
//! ```
//!
//! Why not the system allocator: the embedded store funnels every write through one
//! thread ([`skiff_adapters::sqlite_store`]), and most of what that thread frees was
//! allocated on another (the request's item, its conditions). glibc's malloc pays
//! for that with arena locks and consolidation: profiled under the seats benchmark,
//! it took about a third of the writer thread's time. With mimalloc (per-thread
//! heaps, cheap cross-thread frees) the same benchmark runs 25–35% more seat cycles
//! per second at a quarter lower median latency. Lambda binaries get the same
//! saving on every request.
//!
//! Built without transparent huge pages (`no_thp`): by default mimalloc asks the
//! kernel for 2 MiB pages, and the kernel zeroes each whole one on its first
//! touch. A long-lived server might win a little on TLB misses; a Lambda
//! container pays it in init, before its first request, for a heap that stays
//! small.

pub use mimalloc::MiMalloc as Allocator;
