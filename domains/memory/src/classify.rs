//! A memory's type when the client names none: AutoMem's pattern classifier (the
//! phrases that mark a decision, a preference, a habit, …), without its LLM step.
//! The first type with a matching phrase wins, at 0.6 confidence plus 0.1 per
//! further phrase of that type (at most 0.95); no match is `Memory` at 0.3, as
//! AutoMem answers when its LLM is not configured.

/// One phrase test on lowercased content.
enum Pat {
    /// A literal substring.
    Has(&'static str),
    /// `first` followed later by `second` (AutoMem's `first.*second`).
    Then(&'static str, &'static str),
    /// `first` then a later `second` then a later `third`.
    Then3(&'static str, &'static str, &'static str),
    /// `chose <word> over`.
    ChoseOver,
    /// The word `always`, not followed by `use`.
    AlwaysNotUse,
}

use Pat::*;

const PATTERNS: &[(&str, &[Pat])] = &[
    (
        "Decision",
        &[
            Has("decided to"),
            ChoseOver,
            Has("going with"),
            Has("picked"),
            Has("selected"),
            Has("will use"),
            Has("choosing"),
            Has("opted for"),
        ],
    ),
    (
        "Pattern",
        &[
            Has("usually"),
            Has("typically"),
            Has("tend to"),
            Has("pattern i noticed"),
            Has("often"),
            Has("frequently"),
            Has("regularly"),
            Has("consistently"),
        ],
    ),
    (
        "Preference",
        &[
            Has("prefer"),
            Then("like", "better"),
            Has("favorite"),
            Has("always use"),
            Has("rather than"),
            Has("instead of"),
            Has("favor"),
        ],
    ),
    (
        "Style",
        &[
            Then3("wrote", "in", "style"),
            Has("communicated"),
            Has("responded to"),
            Has("formatted as"),
            Then("using", "tone"),
            Has("expressed as"),
        ],
    ),
    (
        "Habit",
        &[
            AlwaysNotUse,
            Has("every time"),
            Has("habitually"),
            Has("routine"),
            Has("daily"),
            Has("weekly"),
            Has("monthly"),
        ],
    ),
    (
        "Insight",
        &[
            Has("realized"),
            Has("discovered"),
            Has("learned that"),
            Has("understood"),
            Has("figured out"),
            Has("insight"),
            Has("revelation"),
        ],
    ),
    (
        "Context",
        &[
            Has("during"),
            Has("while working on"),
            Has("in the context of"),
            Has("when"),
            Has("at the time"),
            Has("situation was"),
        ],
    ),
];

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn then(text: &str, parts: &[&str]) -> bool {
    let mut rest = text;
    for p in parts {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

fn matches(text: &str, pat: &Pat) -> bool {
    match pat {
        Has(s) => text.contains(s),
        Then(a, b) => then(text, &[a, b]),
        Then3(a, b, c) => then(text, &[a, b, c]),
        ChoseOver => text.match_indices("chose ").any(|(i, _)| {
            let rest = &text[i + "chose ".len()..];
            let word: String = rest.chars().take_while(|c| is_word_char(*c)).collect();
            !word.is_empty() && rest[word.len()..].starts_with(" over")
        }),
        AlwaysNotUse => text.match_indices("always").any(|(i, _)| {
            let before = text[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !is_word_char(c));
            let rest = &text[i + "always".len()..];
            let after = rest.chars().next().is_none_or(|c| !is_word_char(c));
            let trimmed = rest.trim_start();
            let uses = trimmed.len() < rest.len()
                && trimmed.starts_with("use")
                && trimmed[3..].chars().next().is_none_or(|c| !is_word_char(c));
            before && after && !uses
        }),
    }
}

/// The type and confidence of `content`.
pub fn classify(content: &str) -> (String, f64) {
    let text = content.to_lowercase();
    for (kind, patterns) in PATTERNS {
        if patterns.iter().any(|p| matches(&text, p)) {
            let hits = patterns.iter().filter(|p| matches(&text, p)).count();
            let confidence = if hits > 1 {
                (0.6 + hits as f64 * 0.1).min(0.95)
            } else {
                0.6
            };
            return ((*kind).to_owned(), confidence);
        }
    }
    ("Memory".to_owned(), 0.3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_choose_the_type() {
        assert_eq!(classify("We decided to use Postgres").0, "Decision");
        assert_eq!(classify("Chose Postgres over Mongo").0, "Decision");
        assert_eq!(classify("I prefer tabs").0, "Preference");
        assert_eq!(classify("I always use tabs").0, "Preference");
        assert_eq!(classify("I always run tests first").0, "Habit");
        assert_eq!(classify("Realized the cache was stale").0, "Insight");
        assert_eq!(classify("Quarterly numbers"), ("Memory".to_owned(), 0.3));
    }

    #[test]
    fn more_phrases_raise_confidence() {
        let (_, one) = classify("decided to ship");
        let (_, three) = classify("decided to ship; opted for rust, going with tokio");
        assert_eq!(one, 0.6);
        assert!(three > 0.85 && three <= 0.95);
    }
}
