//! A JSON body extractor whose rejections are problem+json like every other error
//! (axum's own `Json` answers plain text): 415 `UNSUPPORTED_MEDIA_TYPE` without a
//! JSON content type, 400 `INVALID_JSON` for bytes that are not JSON, and 422
//! `VALIDATION_FAILED` for JSON of the wrong shape, listing every missing field,
//! every field the body type does not know and the field whose value has the wrong
//! type. Unknown fields are refused so a misspelt optional field is never silently
//! ignored; Stripe's webhook reads its raw bytes and stays tolerant.

use crate::error::{ApiError, FieldError};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::PartialSchema;
use utoipa::openapi::{RefOr, Schema};

/// `Json<T>` with problem+json rejections; the body's shape is `T`'s OpenAPI schema.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonBody<T>(pub T);

/// `application/json` or any `application/*+json`, parameters ignored.
pub fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

impl<T: DeserializeOwned + PartialSchema, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json_content_type(req.headers()) {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as `Content-Type: application/json`".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::bad_request("INVALID_BODY", e.body_text())
            }
        })?;
        parse::<T>(&bytes).map(JsonBody)
    }
}

/// The body as `T`, or every reason it is not one.
pub fn parse<T: DeserializeOwned + PartialSchema>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request("INVALID_JSON", format!("the body is not valid JSON: {e}"))
    })?;
    let mut errors = unknown_fields::<T>(&value);
    match serde_path_to_error::deserialize::<_, T>(value.clone()) {
        Ok(v) if errors.is_empty() => return Ok(v),
        Ok(_) => {}
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            if inner.starts_with("missing field") {
                errors.extend(missing_fields::<T>(&value, &path, &inner));
            } else {
                let field = if path == "." { "body".to_owned() } else { path };
                errors.push(FieldError::new(
                    &field,
                    "INVALID_TYPE",
                    format!("`{field}`: {inner}"),
                ));
            }
        }
    }
    Err(ApiError::validation(errors))
}

/// The top-level object schema of `T`, if it is one.
fn object_schema<T: PartialSchema>() -> Option<utoipa::openapi::schema::Object> {
    match T::schema() {
        RefOr::T(Schema::Object(o)) => Some(o),
        _ => None,
    }
}

fn unknown_fields<T: PartialSchema>(value: &Value) -> Vec<FieldError> {
    let (Some(schema), Value::Object(map)) = (object_schema::<T>(), value) else {
        return vec![];
    };
    map.keys()
        .filter(|k| !schema.properties.contains_key(k.as_str()))
        .map(|k| {
            FieldError::new(
                k,
                "UNKNOWN_FIELD",
                format!("`{k}` is not a field of this request"),
            )
        })
        .collect()
}

/// Every required field that is absent (serde stops at the first one; the schema
/// names them all). `path`/`inner` are serde's report, kept if the schema has none.
fn missing_fields<T: PartialSchema>(value: &Value, path: &str, inner: &str) -> Vec<FieldError> {
    let absent = |name: &str| value.get(name).is_none_or(Value::is_null);
    let mut out: Vec<FieldError> = object_schema::<T>()
        .map(|o| o.required)
        .unwrap_or_default()
        .iter()
        .filter(|name| absent(name))
        .map(|name| FieldError::new(name, "REQUIRED", format!("`{name}` is required")))
        .collect();
    if out.is_empty() {
        // Nested, or a field the schema does not mark: serde's own words.
        let name = inner
            .split('`')
            .nth(1)
            .map(|n| {
                if path == "." {
                    n.to_owned()
                } else {
                    format!("{path}.{n}")
                }
            })
            .unwrap_or_else(|| "body".into());
        out.push(FieldError::new(
            &name,
            "REQUIRED",
            format!("`{name}` is required"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
    #[allow(dead_code)]
    struct Body {
        license_key: String,
        hardware_id: String,
        note: Option<String>,
    }

    fn fields(e: ApiError) -> Vec<(String, String)> {
        match e {
            ApiError::Validation { errors, .. } => {
                errors.into_iter().map(|f| (f.field, f.code)).collect()
            }
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn every_missing_field_is_listed() {
        let mut got = fields(parse::<Body>(br#"{}"#).unwrap_err());
        got.sort();
        let want = [("hardware_id", "REQUIRED"), ("license_key", "REQUIRED")]
            .map(|(f, c)| (f.to_owned(), c.to_owned()));
        assert_eq!(got, want);
    }

    #[test]
    fn unknown_fields_are_named() {
        let e = parse::<Body>(br#"{"license_key":"k","hardware_id":"h","colour":1}"#).unwrap_err();
        assert_eq!(
            fields(e),
            [("colour".to_owned(), "UNKNOWN_FIELD".to_owned())]
        );
    }

    #[test]
    fn a_wrong_type_names_its_field_and_bad_json_is_400() {
        let e = parse::<Body>(br#"{"license_key":1,"hardware_id":"h"}"#).unwrap_err();
        assert_eq!(
            fields(e),
            [("license_key".to_owned(), "INVALID_TYPE".to_owned())]
        );
        let e = parse::<Body>(b"{not json").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.code(), "INVALID_JSON");
    }

    #[test]
    fn json_media_types_are_recognised() {
        let with = |ct: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
            is_json_content_type(&h)
        };
        assert!(with("application/json"));
        assert!(with("application/json; charset=utf-8"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/plain"));
        assert!(!is_json_content_type(&HeaderMap::new()));
    }
}
