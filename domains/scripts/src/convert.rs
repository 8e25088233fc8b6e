//! JSON ↔ Rhai values. Requests reach scripts as maps and arrays; answers leave
//! as JSON.

use rhai::Dynamic;
use serde_json::Value;

pub fn to_dynamic(value: &Value) -> Dynamic {
    rhai::serde::to_dynamic(value).unwrap_or(Dynamic::UNIT)
}

/// A script value as JSON; values without a JSON form (functions, custom types)
/// are an error naming their type.
pub fn to_json(value: &Dynamic) -> Result<Value, String> {
    if value.is_unit() {
        return Ok(Value::Null);
    }
    if value.is_blob() {
        return Err("a blob has no JSON form (convert it to a string or an array)".into());
    }
    if value.is_fnptr() {
        return Err("a function pointer has no JSON form".into());
    }
    rhai::serde::from_dynamic::<Value>(value).map_err(|e| {
        format!(
            "a value of type `{}` has no JSON form: {e}",
            value.type_name()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trips_through_rhai_values() {
        let v = json!({"a": [1, 2.5, "x", null, true], "b": {"c": -3}});
        assert_eq!(to_json(&to_dynamic(&v)).unwrap(), v);
    }
}
