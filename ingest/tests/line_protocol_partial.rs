//! Partial writes (good lines kept, bad lines listed), limits, and precision conversion, through
//! the bulk API the server uses.

// Tests may unwrap (STYLE.md); helpers outside #[test] fns need telling.
#![allow(clippy::unwrap_used)]

use tally_engine::{FieldValueRef, WriteBatch};
use tally_ingest::line_protocol::{Limits, LineError, ParseReport, Parser, Precision};

fn run(body: &[u8], limits: Limits, precision: Precision) -> (WriteBatch, ParseReport) {
    let mut parser = Parser::new(limits);
    let mut batch = WriteBatch::new();
    let report = parser.parse_into(body, precision, 7, &mut batch);
    assert_eq!(batch.len(), report.accepted);
    (batch, report)
}

fn at(errors: &[LineError]) -> Vec<(usize, usize)> {
    errors.iter().map(|e| (e.line, e.column)).collect()
}

fn timestamps(batch: &WriteBatch) -> Vec<i64> {
    batch.iter().map(|p| p.unwrap().ts).collect()
}

#[test]
fn good_lines_are_kept_and_bad_lines_listed() {
    let body = "\
requests,key=k1,endpoint=/a latency_ms=12.3,bytes_in=0i,bytes_out=5120i 1000
requests,key=k2,endpoint=/a latency_ms=12x 2000
# a comment

requests,key=k3,endpoint=/b latency_ms=1.5 3000
requests,key=k4 latency_ms=\"unterminated 4000
requests,key=k5 latency_ms=2 5000
requests,key=k6
requests,key=k7 latency_ms=3
";
    let (batch, report) = run(body.as_bytes(), Limits::default(), Precision::Nanoseconds);
    assert_eq!(report.accepted, 4);
    assert_eq!(at(&report.rejected), vec![(2, 40), (6, 28), (8, 16)]);
    assert_eq!(report.rejected_total, 3);
    assert_eq!(
        report.rejected[0].text,
        "requests,key=k2,endpoint=/a latency_ms=12x 2000"
    );
    assert_eq!(timestamps(&batch), vec![1000, 3000, 5000, 7]);
    let keys: Vec<String> = batch
        .iter()
        .map(|p| p.unwrap().key.tag("key").unwrap().to_owned())
        .collect();
    assert_eq!(keys, ["k1", "k3", "k5", "k7"]);
    let first = batch.iter().next().unwrap().unwrap();
    let fields: Vec<_> = first.fields().collect();
    assert_eq!(
        fields,
        vec![
            ("latency_ms", FieldValueRef::Float(12.3)),
            ("bytes_in", FieldValueRef::Integer(0)),
            ("bytes_out", FieldValueRef::Integer(5120)),
        ]
    );
}

#[test]
fn a_body_of_only_bad_lines_leaves_the_batch_untouched() {
    let (batch, report) = run(
        b"x\ny y\nz,=1 v=1",
        Limits::default(),
        Precision::Nanoseconds,
    );
    assert!(batch.is_empty() && batch.as_bytes().is_empty());
    assert_eq!(at(&report.rejected), vec![(1, 2), (2, 4), (3, 3)]);
}

#[test]
fn the_batch_is_appended_to_not_replaced() {
    let mut parser = Parser::new(Limits::default());
    let mut batch = WriteBatch::new();
    parser.parse_into(b"m v=1 1", Precision::Nanoseconds, 0, &mut batch);
    let r = parser.parse_into(b"m v=2 2\nbad", Precision::Nanoseconds, 0, &mut batch);
    assert_eq!(r.accepted, 1);
    assert_eq!(timestamps(&batch), vec![1, 2]);
}

#[test]
fn empty_bodies() {
    for body in [&b""[..], b"\n", b"\r\n", b"# only a comment", b"\n\n\n"] {
        let (batch, report) = run(body, Limits::default(), Precision::Nanoseconds);
        assert!(batch.is_empty());
        assert!(report.is_clean());
        assert_eq!(report.accepted, 0);
    }
}

// ---- limits ----

#[test]
fn max_line_bytes_counts_the_line_without_its_ending() {
    let limits = Limits {
        max_line_bytes: 10,
        ..Limits::default()
    };
    // Exactly 10 bytes, with either line ending, is fine; 11 is not.
    let body = "m v=123456\r\nm v=1234567\nm v=1234\n";
    let (batch, report) = run(body.as_bytes(), limits, Precision::Nanoseconds);
    assert_eq!(batch.len(), 2);
    assert_eq!(at(&report.rejected), vec![(2, 11)]);
    let msg = &report.rejected[0].message;
    assert!(
        msg.contains("11 bytes long") && msg.contains("limit of 10 bytes"),
        "{msg}"
    );
    assert!(msg.contains("max_line_bytes"), "{msg}");
}

#[test]
fn an_over_long_line_is_cut_in_the_report() {
    let limits = Limits {
        max_line_bytes: 1000,
        ..Limits::default()
    };
    let long = format!("m v=\"{}\"", "x".repeat(5000));
    let body = format!("{long}\nm v=1\n");
    let (batch, report) = run(body.as_bytes(), limits, Precision::Nanoseconds);
    assert_eq!(batch.len(), 1);
    assert_eq!(report.rejected[0].text.len(), 200);
    assert!(long.starts_with(&report.rejected[0].text));
}

#[test]
fn default_limits() {
    let l = Limits::default();
    assert_eq!(
        (l.max_line_bytes, l.max_tags, l.max_fields),
        (65536, 64, 256)
    );
}

#[test]
fn max_tags() {
    let limits = Limits {
        max_tags: 3,
        ..Limits::default()
    };
    let body = "m,a=1,b=2,c=3 v=1\nm,a=1,b=2,c=3,d=4 v=1\nm v=1\n";
    let (batch, report) = run(body.as_bytes(), limits, Precision::Nanoseconds);
    assert_eq!(batch.len(), 2);
    assert_eq!(at(&report.rejected), vec![(2, 15)]);
    assert!(report.rejected[0]
        .message
        .contains("more than 3 (max_tags)"));
    let none = Limits {
        max_tags: 0,
        ..Limits::default()
    };
    let (_, report) = run(b"m,a=1 v=1\nm v=1", none, Precision::Nanoseconds);
    assert_eq!(at(&report.rejected), vec![(1, 3)]);
}

#[test]
fn max_fields() {
    let limits = Limits {
        max_fields: 2,
        ..Limits::default()
    };
    let body = "m a=1,b=2\nm a=1,b=2,c=3 5\n";
    let (batch, report) = run(body.as_bytes(), limits, Precision::Nanoseconds);
    assert_eq!(batch.len(), 1);
    assert_eq!(at(&report.rejected), vec![(2, 11)]);
    assert!(report.rejected[0]
        .message
        .contains("more than 2 (max_fields)"));
}

#[test]
fn many_tags_and_fields_within_default_limits() {
    let tags: String = (0..64).map(|i| format!(",t{i}=v{i}")).collect();
    let fields: Vec<String> = (0..256).map(|i| format!("f{i}={i}i")).collect();
    let body = format!("m{tags} {}\n", fields.join(","));
    let (batch, report) = run(body.as_bytes(), Limits::default(), Precision::Nanoseconds);
    assert!(report.is_clean(), "{:?}", report.rejected);
    let p = batch.iter().next().unwrap().unwrap();
    assert_eq!(p.key.tags().count(), 64);
    assert_eq!(p.field_count(), 256);
    let too_many = format!("m{tags},t64=x v=1\n");
    let (_, report) = run(
        too_many.as_bytes(),
        Limits::default(),
        Precision::Nanoseconds,
    );
    assert_eq!(report.rejected_total, 1);
}

// ---- precision ----

#[test]
fn each_precision_converts_to_nanoseconds() {
    let cases: [(Precision, i64, i64); 7] = [
        (
            Precision::Nanoseconds,
            1_700_000_000_123_456_789,
            1_700_000_000_123_456_789,
        ),
        (
            Precision::Microseconds,
            1_700_000_000_123_456,
            1_700_000_000_123_456_000,
        ),
        (
            Precision::Milliseconds,
            1_700_000_000_123,
            1_700_000_000_123_000_000,
        ),
        (Precision::Seconds, 1_700_000_000, 1_700_000_000_000_000_000),
        (Precision::Minutes, 28_333_333, 1_699_999_980_000_000_000),
        (Precision::Hours, 472_222, 1_699_999_200_000_000_000),
        (Precision::Seconds, -1, -1_000_000_000),
    ];
    for (p, ts, ns) in cases {
        let body = format!("m v=1 {ts}\nm v=2\n");
        let (batch, report) = run(body.as_bytes(), Limits::default(), p);
        assert!(report.is_clean(), "{p}: {:?}", report.rejected);
        // The default timestamp is already in nanoseconds and is not scaled.
        assert_eq!(timestamps(&batch), vec![ns, 7], "{p}");
    }
}

#[test]
fn precision_overflow_is_a_line_error() {
    // i64::MAX ns is 2262-04-11T23:47:16.854775807Z.
    let body = "m v=1 9223372036\nm v=1 9223372037\nm v=1 -9223372037\nm v=1 1\n";
    let (batch, report) = run(body.as_bytes(), Limits::default(), Precision::Seconds);
    assert_eq!(
        timestamps(&batch),
        vec![9_223_372_036_000_000_000, 1_000_000_000]
    );
    assert_eq!(at(&report.rejected), vec![(2, 7), (3, 7)]);
    let msg = &report.rejected[0].message;
    assert!(
        msg.contains("9223372037 in seconds is out of range"),
        "{msg}"
    );
    assert!(msg.contains("precision"), "{msg}");

    let (batch, report) = run(
        b"m v=1 2562047\nm v=1 2562048",
        Limits::default(),
        Precision::Hours,
    );
    assert_eq!(batch.len(), 1);
    assert_eq!(at(&report.rejected), vec![(2, 7)]);

    let (batch, _) = run(
        b"m v=1 9223372036854775807\nm v=1 -9223372036854775808",
        Limits::default(),
        Precision::Nanoseconds,
    );
    assert_eq!(timestamps(&batch), vec![i64::MAX, i64::MIN]);
}

#[test]
fn precision_names() {
    assert_eq!("ms".parse::<Precision>(), Ok(Precision::Milliseconds));
    assert_eq!("n".parse::<Precision>(), Ok(Precision::Nanoseconds));
    assert_eq!("u".parse::<Precision>(), Ok(Precision::Microseconds));
    let e = "seconds".parse::<Precision>().unwrap_err().to_string();
    assert!(
        e.contains("\"seconds\"") && e.contains("ns (or n), us (or u), ms, s"),
        "{e}"
    );
}
