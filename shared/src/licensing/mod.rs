//! Licensing domain (issue 5). STUB of the hooks billing calls; the licensing work
//! replaces the bodies and adds the rest of the module.

pub mod hooks;
