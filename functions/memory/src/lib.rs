//! The `memory` function (in progress).
