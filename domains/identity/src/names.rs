//! Human-entered names (a person's full name, an organization's name): trimmed,
//! 1–200 characters, no control characters.

use skiff_core::validation::FieldError;

pub const MAX_NAME_CHARS: usize = 200;

/// A trimmed, non-empty, printable name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(FieldError::new(
                field,
                "REQUIRED",
                format!("{field} is required"),
            ));
        }
        if t.chars().count() > MAX_NAME_CHARS {
            return Err(FieldError::new(
                field,
                "TOO_LONG",
                format!("{field} may have at most {MAX_NAME_CHARS} characters"),
            ));
        }
        if t.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                "INVALID_CHARACTERS",
                format!("{field} contains control characters"),
            ));
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(Name::parse("  Ada  ", "full_name").unwrap().as_str(), "Ada");
        assert_eq!(Name::parse(" ", "full_name").unwrap_err().code, "REQUIRED");
        assert_eq!(
            Name::parse(&"x".repeat(201), "full_name").unwrap_err().code,
            "TOO_LONG"
        );
        assert_eq!(
            Name::parse("a\u{0}b", "full_name").unwrap_err().code,
            "INVALID_CHARACTERS"
        );
    }
}
