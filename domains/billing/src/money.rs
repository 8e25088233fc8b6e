//! Money as an integer count of minor units (cents) with its currency, so prices are
//! never floats and never mixed across currencies.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency code, lowercase as Stripe writes it (`usd`, `eur`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"usd");

    /// Parse three ASCII letters (any case).
    pub fn parse(code: &str) -> Result<Self, String> {
        let b = code.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_alphabetic) {
            return Err(format!("`{code}` is not a three-letter currency code"));
        }
        Ok(Currency([
            b[0].to_ascii_lowercase(),
            b[1].to_ascii_lowercase(),
            b[2].to_ascii_lowercase(),
        ]))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII by construction")
    }

    /// Digits after the decimal point (zero-decimal currencies per Stripe's list).
    pub fn exponent(&self) -> u32 {
        const ZERO_DECIMAL: [&str; 16] = [
            "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
            "vuv", "xaf", "xof", "xpf",
        ];
        if ZERO_DECIMAL.contains(&self.as_str()) {
            0
        } else {
            2
        }
    }

    fn symbol(&self) -> Option<&'static str> {
        match self.as_str() {
            "usd" => Some("$"),
            "eur" => Some("€"),
            "gbp" => Some("£"),
            "jpy" => Some("¥"),
            _ => None,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An amount in minor units (e.g. cents) of a currency. Never negative for prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Minor units: 2900 = $29.00.
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    pub fn is_zero(&self) -> bool {
        self.amount == 0
    }

    /// `a` before `b` when both are in one currency; `None` across currencies.
    pub fn cmp_same_currency(&self, other: &Money) -> Option<std::cmp::Ordering> {
        (self.currency == other.currency).then(|| self.amount.cmp(&other.amount))
    }

    /// For people: `$29.00`, `12.50 chf`, `¥500`.
    pub fn display(&self) -> String {
        let exp = self.currency.exponent();
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        let number = if exp == 0 {
            abs.to_string()
        } else {
            let unit = 10u64.pow(exp);
            format!(
                "{}.{:0width$}",
                abs / unit,
                abs % unit,
                width = exp as usize
            )
        };
        match self.currency.symbol() {
            Some(sym) => format!("{sign}{sym}{number}"),
            None => format!("{sign}{number} {}", self.currency),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_minor_units() {
        assert_eq!(Money::new(2900, Currency::USD).display(), "$29.00");
        assert_eq!(Money::new(5, Currency::USD).display(), "$0.05");
        assert_eq!(
            Money::new(1250, Currency::parse("CHF").unwrap()).display(),
            "12.50 chf"
        );
        assert_eq!(
            Money::new(500, Currency::parse("jpy").unwrap()).display(),
            "¥500"
        );
    }

    #[test]
    fn currency_codes_are_validated_and_lowercased() {
        assert_eq!(Currency::parse("EUR").unwrap().as_str(), "eur");
        assert!(Currency::parse("euro").is_err());
        assert!(Currency::parse("e1r").is_err());
        let m: Money = serde_json::from_str(r#"{"amount":100,"currency":"USD"}"#).unwrap();
        assert_eq!(m, Money::new(100, Currency::USD));
    }

    #[test]
    fn comparison_needs_one_currency() {
        let a = Money::new(100, Currency::USD);
        let b = Money::new(200, Currency::parse("eur").unwrap());
        assert_eq!(a.cmp_same_currency(&b), None);
        assert_eq!(
            a.cmp_same_currency(&Money::new(200, Currency::USD)),
            Some(std::cmp::Ordering::Less)
        );
    }
}
