//! Each domain's own settings, carried beside the ports so a domain reads its
//! configuration without the core knowing its type: the wiring inserts one value
//! per type, a domain reads it back by type.

use std::any::{Any, TypeId, type_name};
use std::collections::HashMap;
use std::sync::Arc;

/// One value per type. Reading a type that was never inserted is a wiring bug,
/// caught by any test that touches the domain, so [`Settings::get`] panics.
#[derive(Clone, Default)]
pub struct Settings(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl Settings {
    pub fn new() -> Self {
        Self::default()
    }

    /// Insert (or replace) the value of type `T`.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) -> &mut Self {
        self.0.insert(TypeId::of::<T>(), Arc::new(value));
        self
    }

    /// Builder form of [`Settings::insert`].
    pub fn with<T: Any + Send + Sync>(mut self, value: T) -> Self {
        self.insert(value);
        self
    }

    pub fn try_get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.0.get(&TypeId::of::<T>())?.downcast_ref()
    }

    pub fn get<T: Any + Send + Sync>(&self) -> &T {
        self.try_get().unwrap_or_else(|| {
            panic!(
                "settings of type {} were not wired in (see skiff-app)",
                type_name::<T>()
            )
        })
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Settings({} values)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_read_back_by_its_type() {
        let s = Settings::new().with(7u32).with("x".to_owned());
        assert_eq!(*s.get::<u32>(), 7);
        assert_eq!(s.get::<String>(), "x");
        assert!(s.try_get::<u64>().is_none());
    }

    #[test]
    #[should_panic(expected = "were not wired in")]
    fn an_unwired_type_is_a_loud_bug() {
        Settings::new().get::<u64>();
    }
}
