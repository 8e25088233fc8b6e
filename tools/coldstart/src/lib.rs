//! The pure parts of the cold-start meter (statistics, the report, the environment
//! a function gets) and its Lambda Runtime API emulator. The `coldstart` binary
//! drives them; see docs/benchmarks.md for the method.

pub mod env;
pub mod report;
pub mod runtime_api;
pub mod stats;
