//! Property tests: any point, formatted with [`format_line`], parses back to exactly that point,
//! through both the single-line and the bulk API; and no input makes the parser panic or lose
//! count of its lines.

// Tests may unwrap (STYLE.md); helpers outside #[test] fns need telling.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use std::collections::BTreeMap;
use tally_engine::{FieldValue, FieldValueRef, PointScratch, WriteBatch};
use tally_ingest::line_protocol::{format_line, parse_line, Limits, Parser, Precision, Value};

/// Text full of the characters escaping is about, plus multi-byte UTF-8. Newlines are the one
/// thing line protocol cannot carry.
const TEXT: &str = "[a-zA-Z0-9 ,=\"\\\\#é日🙂\t\r/_.-]{1,10}";

#[derive(Debug, Clone)]
struct Point {
    measurement: String,
    tags: BTreeMap<String, String>,
    fields: BTreeMap<String, FieldValue>,
    ts: Option<i64>,
}

fn field_value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        any::<f64>()
            .prop_filter("line protocol has no NaN or infinity", |f| f.is_finite())
            .prop_map(FieldValue::Float),
        (-1e6f64..1e6).prop_map(|f| FieldValue::Float((f * 1000.0).round() / 1000.0)),
        any::<i64>().prop_map(FieldValue::Integer),
        any::<u64>().prop_map(FieldValue::Unsigned),
        any::<bool>().prop_map(FieldValue::Boolean),
        "[a-z ,=\"\\\\#é日🙂\t\r]{0,12}".prop_map(FieldValue::String),
    ]
}

fn point() -> impl Strategy<Value = Point> {
    (
        // A leading '#' would make a comment and a leading tab would be skipped as a blank.
        TEXT.prop_filter("not representable", |m| !m.starts_with(['#', '\t'])),
        prop::collection::btree_map(TEXT, TEXT, 0..5),
        prop::collection::btree_map(TEXT, field_value(), 1..5),
        prop::option::of(any::<i64>()),
    )
        .prop_map(|(measurement, tags, fields, ts)| Point {
            measurement,
            tags,
            fields,
            ts,
        })
}

fn as_ref(v: &FieldValue) -> FieldValueRef<'_> {
    match v {
        FieldValue::Float(x) => FieldValueRef::Float(*x),
        FieldValue::Integer(x) => FieldValueRef::Integer(*x),
        FieldValue::Unsigned(x) => FieldValueRef::Unsigned(*x),
        FieldValue::Boolean(x) => FieldValueRef::Boolean(*x),
        FieldValue::String(s) => FieldValueRef::String(s),
    }
}

fn format(p: &Point, out: &mut Vec<u8>) {
    let tags: Vec<(&str, &str)> = p
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let fields: Vec<(&str, FieldValueRef<'_>)> = p
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), as_ref(v)))
        .collect();
    format_line(out, &p.measurement, &tags, &fields, p.ts);
}

/// Floats compare by bits so that -0.0 and 0.0 differ.
fn same(a: &FieldValue, b: &FieldValue) -> bool {
    match (a, b) {
        (FieldValue::Float(x), FieldValue::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn format_then_parse_line_gives_back_the_point(p in point()) {
        let mut out = Vec::new();
        format(&p, &mut out);
        let line = parse_line(&out)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&out))))?
            .expect("a point, not a comment");
        prop_assert_eq!(line.measurement.to_string(), p.measurement.clone());
        let tags: Vec<(String, String)> =
            line.tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let want: Vec<(String, String)> = p.tags.clone().into_iter().collect();
        prop_assert_eq!(tags, want);
        prop_assert_eq!(line.fields.len(), p.fields.len());
        for ((k, v), (wk, wv)) in line.fields.iter().zip(&p.fields) {
            prop_assert_eq!(&k.to_string(), wk);
            let got = v.to_field_value();
            prop_assert!(same(&got, wv), "field {}: {:?} != {:?}", wk, got, wv);
            if let (Value::String(t), FieldValue::String(s)) = (v, wv) {
                // Zero-copy: a string without quotes or backslashes is borrowed as is.
                prop_assert_eq!(t.has_escapes(), s.contains(['"', '\\']));
            }
        }
        prop_assert_eq!(line.timestamp, p.ts);
    }

    #[test]
    fn a_formatted_body_fills_the_batch_like_the_builder(
        points in prop::collection::vec(point(), 1..8),
        default_ts in any::<i64>(),
    ) {
        let mut body = Vec::new();
        let mut want = WriteBatch::new();
        let mut scratch = PointScratch::new();
        for p in &points {
            format(p, &mut body);
            let mut b = want.point(&mut scratch, &p.measurement);
            for (k, v) in &p.tags {
                b.tag(k, v);
            }
            for (k, v) in &p.fields {
                b.field(k, as_ref(v));
            }
            b.finish(p.ts.unwrap_or(default_ts)).unwrap();
        }
        let mut parser = Parser::new(Limits::default());
        let mut got = WriteBatch::new();
        let report = parser.parse_into(&body, Precision::Nanoseconds, default_ts, &mut got);
        prop_assert!(report.is_clean(), "{:?}", report.rejected);
        prop_assert_eq!(report.accepted, points.len());
        prop_assert_eq!(got.as_bytes(), want.as_bytes());
    }

    #[test]
    fn no_input_panics_and_every_line_is_accounted_for(
        body in prop::collection::vec(
            prop_oneof![
                Just(b' '), Just(b','), Just(b'='), Just(b'"'), Just(b'\\'), Just(b'\n'),
                Just(b'\r'), Just(b'#'), Just(b'i'), Just(b'u'), Just(b't'), Just(b'-'),
                Just(b'.'), Just(b'e'), Just(b'1'), Just(b'9'), Just(b'm'), any::<u8>(),
            ],
            0..200,
        ),
        max_line_bytes in 1usize..64,
        max_tags in 0usize..4,
        max_fields in 0usize..4,
    ) {
        let limits = Limits { max_line_bytes, max_tags, max_fields };
        let mut parser = Parser::new(limits);
        let mut batch = WriteBatch::new();
        let report = parser.parse_into(&body, Precision::Seconds, 0, &mut batch);
        prop_assert_eq!(batch.len(), report.accepted);
        let lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
        let mut last = 0;
        for e in &report.rejected {
            prop_assert!(e.line > last, "one error per line, in order");
            last = e.line;
            let line = lines[e.line - 1];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            prop_assert!(e.column >= 1 && e.column <= line.len() + 1, "{e:?} in {line:?}");
        }
        // Every line holding a point is either accepted or rejected.
        let with_content = lines
            .iter()
            .filter(|l| {
                let t: Vec<u8> = l.iter().copied().skip_while(|b| *b == b' ' || *b == b'\t').collect();
                !(t.is_empty() || t == b"\r" || t[0] == b'#')
            })
            .count();
        prop_assert_eq!(report.accepted + report.rejected_total, with_content);
        // Each accepted point reads back from the batch.
        for p in batch.iter() {
            prop_assert!(p.is_ok());
        }
    }
}
