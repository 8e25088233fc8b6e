//! `kv::`, `docs::`, `files::`, `pubsub::` and `dead_letters::`: the app's data
//! and topics, every call scoped by the run's context (no argument names an app).

use crate::context::{self, RunContext};
use crate::convert::{to_dynamic, to_json};
use crate::data::{docs, files, kv, pubsub};
use crate::error::ScriptsError;
use rhai::{Blob, Dynamic, Engine, EvalAltResult, ImmutableString, Map, Module};
use serde_json::Value;
use std::rc::Rc;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// A domain error as the script sees it: an error it may catch.
pub(crate) fn thrown(e: ScriptsError) -> Box<EvalAltResult> {
    let message = match e {
        ScriptsError::Billing(b) => b.to_string(),
        ScriptsError::Store(s) => {
            tracing::warn!(error = %s, "store failure in a script's data call");
            "the data store is unavailable; retry later".into()
        }
        other => other.to_string(),
    };
    message.into()
}

/// Run a data call from the runner thread.
fn call<T>(
    f: impl FnOnce(
        Rc<RunContext>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, ScriptsError>>>>,
) -> RhaiResult<T> {
    let ctx = context::require()?;
    let fut = f(ctx.clone());
    ctx.block_on(fut)?.map_err(thrown)
}

fn json_of(v: &Dynamic) -> RhaiResult<Value> {
    to_json(v).map_err(|m| m.into())
}

fn map_json(m: Map) -> RhaiResult<serde_json::Map<String, Value>> {
    match json_of(&Dynamic::from_map(m))? {
        Value::Object(o) => Ok(o),
        _ => Err("expected a map".into()),
    }
}

/// `#{cursor, limit}` of a `list` (unknown keys throw).
fn list_opts(opts: &Map) -> RhaiResult<(Option<String>, usize)> {
    let mut cursor = None;
    let mut limit = 50usize;
    for (k, v) in opts {
        match k.as_str() {
            "cursor" if v.is_unit() => {}
            "cursor" => {
                cursor = Some(
                    v.clone()
                        .into_string()
                        .map_err(|_| "`cursor` is a string")?,
                )
            }
            "limit" => limit = v.as_int().map_err(|_| "`limit` is a number")?.max(1) as usize,
            other => return Err(format!("unknown option `{other}` (cursor, limit)").into()),
        }
    }
    Ok((cursor, limit))
}

#[derive(Debug, Clone)]
pub struct KvCollection(ImmutableString);
#[derive(Debug, Clone)]
pub struct DocsCollection(ImmutableString);
#[derive(Debug, Clone)]
pub struct FilesCollection(ImmutableString);

fn kv_list(c: &KvCollection, opts: &Map) -> RhaiResult<Dynamic> {
    let (cursor, limit) = list_opts(opts)?;
    let name = c.0.to_string();
    let (items, next) = call(move |ctx| {
        Box::pin(async move { kv::list(&ctx.data_scope(), &name, cursor.as_deref(), limit).await })
    })?;
    let items: Vec<Value> = items
        .into_iter()
        .map(|(k, v)| serde_json::json!({"key": k, "value": v}))
        .collect();
    Ok(to_dynamic(
        &serde_json::json!({"items": items, "cursor": next}),
    ))
}

fn docs_find(c: &DocsCollection, filter: Map) -> RhaiResult<Dynamic> {
    let filter = Value::Object(map_json(filter)?);
    let name = c.0.to_string();
    let (items, next) = call(move |ctx| {
        Box::pin(async move { docs::find(&ctx.data_scope(), &name, &filter).await })
    })?;
    let items: Vec<Value> = items
        .into_iter()
        .map(|(id, data)| serde_json::json!({"id": id, "data": data}))
        .collect();
    Ok(to_dynamic(
        &serde_json::json!({"items": items, "cursor": next}),
    ))
}

fn file_write(
    c: &FilesCollection,
    name: &str,
    bytes: Vec<u8>,
    meta: Map,
    create: bool,
) -> RhaiResult<Dynamic> {
    let meta = map_json(meta)?;
    let (coll, name) = (c.0.to_string(), name.to_owned());
    let file = call(move |ctx| {
        Box::pin(async move {
            let scope = ctx.data_scope();
            if create {
                files::create(&scope, &coll, &name, bytes, meta).await
            } else {
                files::update(&scope, &coll, &name, bytes, meta).await
            }
        })
    })?;
    Ok(to_dynamic(&file.view()))
}

fn files_list(c: &FilesCollection, opts: &Map) -> RhaiResult<Dynamic> {
    let (cursor, limit) = list_opts(opts)?;
    let name = c.0.to_string();
    let (items, next) = call(move |ctx| {
        Box::pin(
            async move { files::list(&ctx.data_scope(), &name, cursor.as_deref(), limit).await },
        )
    })?;
    let items: Vec<Value> = items.iter().map(files::FileMeta::view).collect();
    Ok(to_dynamic(
        &serde_json::json!({"items": items, "cursor": next}),
    ))
}

pub struct Data;

impl super::SdkModule for Data {
    fn name(&self) -> &'static str {
        "kv, docs, files, pubsub, dead_letters"
    }

    fn register(&self, engine: &mut Engine) {
        // kv::
        let mut m = Module::new();
        m.set_native_fn("collection", |name: ImmutableString| Ok(KvCollection(name)));
        engine.register_static_module("kv", m.into());
        engine
            .register_type_with_name::<KvCollection>("KvCollection")
            .register_fn(
                "get",
                |c: &mut KvCollection, key: &str| -> RhaiResult<Dynamic> {
                    let (name, key) = (c.0.to_string(), key.to_owned());
                    let v = call(move |ctx| {
                        Box::pin(async move { kv::get(&ctx.data_scope(), &name, &key).await })
                    })?;
                    Ok(v.map(|v| to_dynamic(&v)).unwrap_or(Dynamic::UNIT))
                },
            )
            .register_fn(
                "has",
                |c: &mut KvCollection, key: &str| -> RhaiResult<bool> {
                    let (name, key) = (c.0.to_string(), key.to_owned());
                    call(move |ctx| {
                        Box::pin(async move { kv::has(&ctx.data_scope(), &name, &key).await })
                    })
                },
            )
            .register_fn(
                "set",
                |c: &mut KvCollection, key: &str, value: Dynamic| -> RhaiResult<()> {
                    let (name, key, value) = (c.0.to_string(), key.to_owned(), json_of(&value)?);
                    call(move |ctx| {
                        Box::pin(
                            async move { kv::set(&ctx.data_scope(), &name, &key, value).await },
                        )
                    })
                },
            )
            .register_fn(
                "delete",
                |c: &mut KvCollection, key: &str| -> RhaiResult<bool> {
                    let (name, key) = (c.0.to_string(), key.to_owned());
                    call(move |ctx| {
                        Box::pin(async move { kv::delete(&ctx.data_scope(), &name, &key).await })
                    })
                },
            )
            .register_fn("list", |c: &mut KvCollection| kv_list(c, &Map::new()))
            .register_fn("list", |c: &mut KvCollection, opts: Map| kv_list(c, &opts));

        // docs::
        let mut m = Module::new();
        m.set_native_fn("collection", |name: ImmutableString| {
            Ok(DocsCollection(name))
        });
        engine.register_static_module("docs", m.into());
        engine
            .register_type_with_name::<DocsCollection>("DocsCollection")
            .register_fn(
                "create",
                // Any value: the domain names what is wrong with a non-map.
                |c: &mut DocsCollection, data: Dynamic| -> RhaiResult<String> {
                    let (name, data) = (c.0.to_string(), json_of(&data)?);
                    let id = call(move |ctx| {
                        Box::pin(async move { docs::create(&ctx.data_scope(), &name, data).await })
                    })?;
                    Ok(id.to_string())
                },
            )
            .register_fn(
                "get",
                |c: &mut DocsCollection, id: &str| -> RhaiResult<Dynamic> {
                    let (name, id) = (c.0.to_string(), id.to_owned());
                    let v = call(move |ctx| {
                        Box::pin(async move { docs::get(&ctx.data_scope(), &name, &id).await })
                    })?;
                    Ok(v.map(|v| to_dynamic(&v)).unwrap_or(Dynamic::UNIT))
                },
            )
            .register_fn(
                "update",
                |c: &mut DocsCollection, id: &str, data: Dynamic| -> RhaiResult<Dynamic> {
                    let (name, id, data) = (c.0.to_string(), id.to_owned(), json_of(&data)?);
                    let prev = call(move |ctx| {
                        Box::pin(
                            async move { docs::update(&ctx.data_scope(), &name, &id, data).await },
                        )
                    })?;
                    Ok(to_dynamic(&prev))
                },
            )
            .register_fn(
                "delete",
                |c: &mut DocsCollection, id: &str| -> RhaiResult<bool> {
                    let (name, id) = (c.0.to_string(), id.to_owned());
                    call(move |ctx| {
                        Box::pin(async move { docs::delete(&ctx.data_scope(), &name, &id).await })
                    })
                },
            )
            .register_fn("find", |c: &mut DocsCollection, filter: Map| {
                docs_find(c, filter)
            })
            .register_fn("find", |c: &mut DocsCollection| docs_find(c, Map::new()));

        // files::
        let mut m = Module::new();
        m.set_native_fn("collection", |name: ImmutableString| {
            Ok(FilesCollection(name))
        });
        engine.register_static_module("files", m.into());
        engine
            .register_type_with_name::<FilesCollection>("FilesCollection")
            .register_fn(
                "create",
                |c: &mut FilesCollection, name: &str, blob: Blob, meta: Map| {
                    file_write(c, name, blob, meta, true)
                },
            )
            .register_fn(
                "create",
                |c: &mut FilesCollection, name: &str, text: ImmutableString, meta: Map| {
                    file_write(c, name, text.as_bytes().to_vec(), meta, true)
                },
            )
            .register_fn(
                "create",
                |c: &mut FilesCollection, name: &str, blob: Blob| {
                    file_write(c, name, blob, Map::new(), true)
                },
            )
            .register_fn(
                "create",
                |c: &mut FilesCollection, name: &str, text: ImmutableString| {
                    file_write(c, name, text.as_bytes().to_vec(), Map::new(), true)
                },
            )
            .register_fn(
                "update",
                |c: &mut FilesCollection, name: &str, blob: Blob, meta: Map| {
                    file_write(c, name, blob, meta, false)
                },
            )
            .register_fn(
                "update",
                |c: &mut FilesCollection, name: &str, text: ImmutableString, meta: Map| {
                    file_write(c, name, text.as_bytes().to_vec(), meta, false)
                },
            )
            .register_fn(
                "update",
                |c: &mut FilesCollection, name: &str, blob: Blob| {
                    file_write(c, name, blob, Map::new(), false)
                },
            )
            .register_fn(
                "update",
                |c: &mut FilesCollection, name: &str, text: ImmutableString| {
                    file_write(c, name, text.as_bytes().to_vec(), Map::new(), false)
                },
            )
            .register_fn(
                "head",
                |c: &mut FilesCollection, name: &str| -> RhaiResult<Dynamic> {
                    let (coll, name) = (c.0.to_string(), name.to_owned());
                    let f = call(move |ctx| {
                        Box::pin(async move { files::head(&ctx.data_scope(), &coll, &name).await })
                    })?;
                    Ok(f.map(|f| to_dynamic(&f.view())).unwrap_or(Dynamic::UNIT))
                },
            )
            .register_fn(
                "get",
                |c: &mut FilesCollection, name: &str| -> RhaiResult<Dynamic> {
                    let (coll, name) = (c.0.to_string(), name.to_owned());
                    let f = call(move |ctx| {
                        Box::pin(async move { files::get(&ctx.data_scope(), &coll, &name).await })
                    })?;
                    Ok(match f {
                        None => Dynamic::UNIT,
                        Some((meta, bytes)) => {
                            let mut m: Map =
                                to_dynamic(&meta.view()).try_cast().unwrap_or_default();
                            m.insert("blob".into(), Dynamic::from_blob(bytes.to_vec()));
                            Dynamic::from_map(m)
                        }
                    })
                },
            )
            .register_fn(
                "delete",
                |c: &mut FilesCollection, name: &str| -> RhaiResult<bool> {
                    let (coll, name) = (c.0.to_string(), name.to_owned());
                    call(move |ctx| {
                        Box::pin(
                            async move { files::delete(&ctx.data_scope(), &coll, &name).await },
                        )
                    })
                },
            )
            .register_fn("list", |c: &mut FilesCollection| files_list(c, &Map::new()))
            .register_fn("list", |c: &mut FilesCollection, opts: Map| {
                files_list(c, &opts)
            });

        // pubsub::
        let mut m = Module::new();
        m.set_native_fn(
            "publish",
            |topic: ImmutableString, message: Dynamic| -> RhaiResult<i64> {
                let (topic, message) = (topic.to_string(), json_of(&message)?);
                let n = call(move |ctx| {
                    Box::pin(
                        async move { pubsub::publish(&ctx.data_scope(), &topic, message).await },
                    )
                })?;
                Ok(n as i64)
            },
        );
        engine.register_static_module("pubsub", m.into());

        // dead_letters::
        let mut m = Module::new();
        m.set_native_fn("replay", |id: ImmutableString| -> RhaiResult<String> {
            let id =
                skiff_core::ids::DeadLetterId::parse(&id).map_err(|_| "not a dead letter id")?;
            call(move |ctx| {
                Box::pin(async move {
                    crate::dead_letters::replay_in(&ctx.services, &ctx.org_id, &ctx.app.id, &id)
                        .await
                })
            })
        });
        m.set_native_fn(
            "resolve",
            |id: ImmutableString, reason: ImmutableString| -> RhaiResult<()> {
                let id = skiff_core::ids::DeadLetterId::parse(&id)
                    .map_err(|_| "not a dead letter id")?;
                let reason = reason.to_string();
                call(move |ctx| {
                    Box::pin(async move {
                        crate::dead_letters::resolve_in(
                            &ctx.services,
                            &ctx.org_id,
                            &ctx.app.id,
                            &id,
                            &reason,
                        )
                        .await
                        .map(|_| ())
                    })
                })
            },
        );
        engine.register_static_module("dead_letters", m.into());
    }
}
