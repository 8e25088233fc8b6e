//! `--output json|table`: JSON for scripts, aligned columns for people.

use serde_json::Value;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    Json,
    Table,
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// One object: every member as JSON, or the chosen `fields` as `name: value` lines.
pub fn print_value(format: Format, value: &Value, fields: &[&str]) {
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        ),
        Format::Table => {
            let width = fields.iter().map(|f| f.len()).max().unwrap_or(0);
            for f in fields {
                println!("{f:<width$}  {}", cell(&value[*f]));
            }
        }
    }
}

/// A list: a JSON array, or the chosen `columns` under a header.
pub fn print_rows(format: Format, rows: &Value, columns: &[&str]) {
    if let Format::Json = format {
        println!("{}", serde_json::to_string_pretty(rows).unwrap_or_default());
        return;
    }
    let rows = rows.as_array().cloned().unwrap_or_default();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| columns.iter().map(|c| cell(&r[*c])).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |vals: Vec<String>| {
        vals.iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    println!(
        "{}",
        line(columns.iter().map(|c| c.to_uppercase()).collect())
    );
    for r in cells {
        println!("{}", line(r));
    }
}
