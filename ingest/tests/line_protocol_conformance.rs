//! Conformance with the InfluxDB 1.x line-protocol reference: every data type and escaping case
//! of its documentation, each written once correctly (and read back exactly) and once wrongly
//! (and refused at the exact line and column, with a message saying what was expected).
//!
//! Points are rendered as `measurement|tags sorted by key|fields in line order|timestamp`, with
//! every name shown unescaped, so each case reads like the table in the documentation.

// Tests may unwrap (STYLE.md); helpers outside #[test] fns need telling.
#![allow(clippy::unwrap_used)]

use tally_engine::{PointRef, WriteBatch};
use tally_ingest::line_protocol::{parse_line, Limits, LineError, Parser, Precision, Value};

const DEFAULT_TS: i64 = 42;

fn render(p: &PointRef<'_>) -> String {
    let tags: Vec<String> = p.key.tags().map(|(k, v)| format!("{k}={v}")).collect();
    let fields: Vec<String> = p.fields().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!(
        "{}|{}|{}|{}",
        p.key.measurement(),
        tags.join(","),
        fields.join(","),
        p.ts
    )
}

/// Parses `body` and returns the rendered points and the errors.
fn parse(body: &str) -> (Vec<String>, Vec<LineError>) {
    let mut parser = Parser::new(Limits::default());
    let mut batch = WriteBatch::new();
    let report = parser.parse_into(
        body.as_bytes(),
        Precision::Nanoseconds,
        DEFAULT_TS,
        &mut batch,
    );
    let points: Vec<String> = batch.iter().map(|p| render(&p.unwrap())).collect();
    assert_eq!(points.len(), report.accepted);
    assert_eq!(report.rejected.len(), report.rejected_total);
    (points, report.rejected)
}

/// Asserts `line` is accepted as exactly `expected`, by both the bulk and the single-line API.
#[track_caller]
fn good(line: &str, expected: &str) {
    let (points, errors) = parse(line);
    assert!(errors.is_empty(), "{line:?} was refused: {errors:?}");
    assert_eq!(points, vec![expected.to_owned()], "{line:?}");
    let single = parse_line(line.as_bytes()).unwrap().unwrap();
    assert_eq!(
        single.measurement.to_string(),
        expected.split('|').next().unwrap()
    );
}

/// Asserts `line` is refused at `column` of line 1 with a message containing `fragment`.
#[track_caller]
fn bad(line: &str, column: usize, fragment: &str) {
    let (points, errors) = parse(line);
    assert!(points.is_empty(), "{line:?} was accepted as {points:?}");
    assert_eq!(errors.len(), 1, "{line:?}: {errors:?}");
    let e = &errors[0];
    assert_eq!((e.line, e.column), (1, column), "{line:?}: {}", e.message);
    assert!(
        e.message.contains(fragment),
        "{line:?}: message {:?} lacks {fragment:?}",
        e.message
    );
    assert_eq!(e.text, line.trim_end_matches(['\n', '\r']));
    // The single-line API agrees.
    let single = parse_line(line.as_bytes()).unwrap_err();
    assert_eq!((single.line, single.column), (1, column), "{line:?}");
}

// ---- the syntax of a point ----

#[test]
fn documented_example_with_every_part() {
    good(
        "weather,location=us-midwest temperature=82 1465839830100400200",
        "weather|location=us-midwest|temperature=Float(82.0)|1465839830100400200",
    );
}

#[test]
fn tags_and_timestamp_are_optional() {
    good(
        "weather temperature=82",
        "weather||temperature=Float(82.0)|42",
    );
    good(
        "weather temperature=82 1465839830100400200",
        "weather||temperature=Float(82.0)|1465839830100400200",
    );
    good(
        "weather,location=us-midwest,season=summer temperature=82,humidity=71",
        "weather|location=us-midwest,season=summer|temperature=Float(82.0),humidity=Float(71.0)|42",
    );
}

#[test]
fn tags_are_stored_sorted_by_key() {
    good("m,z=1,a=2,m=3 v=1", "m|a=2,m=3,z=1|v=Float(1.0)|42");
}

#[test]
fn negative_timestamps_are_before_1970() {
    good("m v=1 -1465839830", "m||v=Float(1.0)|-1465839830");
}

#[test]
fn a_point_needs_a_measurement() {
    bad(
        ",location=us-midwest temperature=82",
        1,
        "expected a measurement name",
    );
    bad("  ,t=1 temperature=82", 3, "expected a measurement name");
    // Leading blanks are skipped, so this measurement is "temperature=82".
    bad(" temperature=82", 16, "a point needs at least one field");
}

#[test]
fn a_point_needs_fields() {
    bad("weather", 8, "a point needs at least one field");
    bad(
        "weather,location=us-midwest",
        28,
        "expected a space and a field set after the tags",
    );
    bad("weather ", 9, "expected a field set");
    bad(
        "weather 1465839830100400200",
        28,
        "expected '=' after field key \"1465839830100400200\"",
    );
}

#[test]
fn tag_syntax_errors() {
    bad(
        "weather,location temperature=82",
        17,
        "expected '=' after tag key \"location\", found ' '",
    );
    bad(
        "weather,location= temperature=82",
        18,
        "expected a value for tag key \"location\"",
    );
    bad(
        "weather,=us temperature=82",
        9,
        "expected a tag key after ','",
    );
    bad("weather, temperature=82", 9, "expected a tag key after ','");
    bad(
        "weather,location=us-midwest, temperature=82",
        29,
        "expected a tag key",
    );
    bad("weather,loc=a=b temperature=82", 14, "escape it as \\=");
    bad("weather,location", 17, "found end of line");
}

#[test]
fn field_syntax_errors() {
    bad(
        "weather temperature",
        20,
        "expected '=' after field key \"temperature\", found end of line",
    );
    bad(
        "weather temperature=",
        21,
        "expected a value for field \"temperature\"",
    );
    bad(
        "weather temperature=,humidity=71",
        21,
        "expected a value for field \"temperature\"",
    );
    bad("weather =82", 9, "expected a field key, found '='");
    bad(
        "weather temperature=82,",
        24,
        "expected a field key, found end of line",
    );
    bad(
        "weather temperature=82, humidity=71",
        24,
        "expected a field key, found ' '",
    );
    bad(
        "weather temperature=82,,humidity=71",
        24,
        "expected a field key, found ','",
    );
}

#[test]
fn timestamp_errors() {
    bad(
        "weather temperature=82 1465839830100400200abc",
        24,
        "invalid timestamp \"1465839830100400200abc\"",
    );
    bad("weather temperature=82 1.5", 24, "invalid timestamp");
    bad(
        "weather temperature=82 2021-01-01T00:00:00Z",
        24,
        "invalid timestamp",
    );
    bad(
        "weather temperature=82 99999999999999999999",
        24,
        "does not fit in a signed 64-bit integer",
    );
    bad(
        "weather temperature=82 1465839830100400200 5",
        44,
        "expected end of line after the timestamp",
    );
}

#[test]
fn blanks_between_parts_may_repeat_and_trail() {
    good(
        "weather  temperature=82   17  ",
        "weather||temperature=Float(82.0)|17",
    );
    good(
        "  weather temperature=82",
        "weather||temperature=Float(82.0)|42",
    );
    good(
        "weather temperature=82 \t",
        "weather||temperature=Float(82.0)|42",
    );
}

// ---- data types ----

#[test]
fn floats_in_every_form() {
    for (text, value) in [
        ("82", "82.0"),
        ("82.0", "82.0"),
        ("-1.234456e+78", "-1.234456e78"),
        ("1e3", "1000.0"),
        ("1E3", "1000.0"),
        ("-1.5E-3", "-0.0015"),
        (".5", "0.5"),
        ("5.", "5.0"),
        ("-0", "-0.0"),
        ("1.7976931348623157e308", "1.7976931348623157e308"),
    ] {
        good(&format!("m v={text}"), &format!("m||v=Float({value})|42"));
    }
}

#[test]
fn bad_floats() {
    bad("m v=12x", 5, "invalid number \"12x\" for field \"v\"");
    bad("m v=1.2.3", 5, "invalid number \"1.2.3\"");
    bad("m v=1e", 5, "invalid number \"1e\"");
    bad("m v=-", 5, "invalid number \"-\"");
    bad("m v=+1", 5, "invalid value \"+1\"");
    bad("m v=1e999", 5, "out of range of a 64-bit float");
    bad("m v=NaN", 5, "invalid value \"NaN\"");
    bad("m v=inf", 5, "invalid value \"inf\"");
    bad("m v=0x10", 5, "invalid number \"0x10\"");
}

#[test]
fn integers() {
    good("m v=82i", "m||v=Integer(82)|42");
    good("m v=-82i", "m||v=Integer(-82)|42");
    good(
        "m v=9223372036854775807i",
        "m||v=Integer(9223372036854775807)|42",
    );
    good(
        "m v=-9223372036854775808i",
        "m||v=Integer(-9223372036854775808)|42",
    );
    bad("m v=9223372036854775808i", 5, "out of range");
    bad("m v=-9223372036854775809i", 5, "out of range");
    bad(
        "m v=1.5i",
        5,
        "has a decimal point or exponent but an integer suffix",
    );
    bad("m v=1e3i", 5, "integer suffix");
    bad("m v=12ii", 5, "invalid number \"12ii\"");
    bad("m v=i", 5, "invalid value \"i\"");
}

#[test]
fn unsigned_integers() {
    good("m v=82u", "m||v=Unsigned(82)|42");
    good(
        "m v=18446744073709551615u",
        "m||v=Unsigned(18446744073709551615)|42",
    );
    bad("m v=18446744073709551616u", 5, "out of range");
    bad("m v=-1u", 5, "is negative; use the i suffix");
    bad("m v=1.0u", 5, "integer suffix");
}

#[test]
fn booleans_in_every_spelling() {
    for t in ["t", "T", "true", "True", "TRUE"] {
        good(&format!("m v={t}"), "m||v=Boolean(true)|42");
    }
    for f in ["f", "F", "false", "False", "FALSE"] {
        good(
            &format!("m v={f},w=1"),
            "m||v=Boolean(false),w=Float(1.0)|42",
        );
    }
    for wrong in ["tru", "tRUE", "yes", "falsey", "FaLsE"] {
        bad(
            &format!("m v={wrong}"),
            5,
            &format!("invalid value {wrong:?}"),
        );
    }
}

#[test]
fn strings() {
    good(r#"m v="too warm""#, r#"m||v=String("too warm")|42"#);
    good(r#"m v="""#, r#"m||v=String("")|42"#);
    good(
        r#"m v="a,b=c d",w=1"#,
        r#"m||v=String("a,b=c d"),w=Float(1.0)|42"#,
    );
    good(r#"m v="日本語 🙂""#, r#"m||v=String("日本語 🙂")|42"#);
    good(r#"m v="1i" 5"#, r#"m||v=String("1i")|5"#);
}

#[test]
fn bad_strings() {
    bad(r#"m v="too warm"#, 5, "unterminated string for field \"v\"");
    bad(r#"m v="too warm\""#, 5, "unterminated string");
    bad(
        r#"m v="a"b"#,
        8,
        "expected ',' or a space after the value of field \"v\", found 'b'",
    );
    bad("m v=too warm", 5, "double-quoted string");
    bad("m v='too warm'", 5, "invalid value \"'too\"");
}

// ---- escaping, as the documentation lists it ----

#[test]
fn measurement_escapes_comma_and_space() {
    good(
        r"wea\,ther temperature=82",
        "wea,ther||temperature=Float(82.0)|42",
    );
    good(
        r"wea\ ther temperature=82",
        "wea ther||temperature=Float(82.0)|42",
    );
    // '=' is not special in a measurement, escaped or not.
    good(
        r"wea=ther temperature=82",
        "wea=ther||temperature=Float(82.0)|42",
    );
    good(
        r"wea\=ther temperature=82",
        r"wea\=ther||temperature=Float(82.0)|42",
    );
    // An unescaped space ends the measurement, so the rest is read as the field set.
    bad(
        "wea ther temperature=82",
        9,
        "expected '=' after field key \"ther\", found ' '",
    );
}

#[test]
fn tag_keys_and_values_escape_comma_equals_and_space() {
    good(
        r"weather,location=us\,midwest temperature=82",
        "weather|location=us,midwest|temperature=Float(82.0)|42",
    );
    good(
        r"weather,location=us\ midwest temperature=82",
        "weather|location=us midwest|temperature=Float(82.0)|42",
    );
    good(
        r"weather,location=a\=b temperature=82",
        "weather|location=a=b|temperature=Float(82.0)|42",
    );
    good(
        r"weather,location\ place=us temperature=82",
        "weather|location place=us|temperature=Float(82.0)|42",
    );
    good(
        r"weather,loc\,ation=us,lo\=c=x temperature=82",
        "weather|lo=c=x,loc,ation=us|temperature=Float(82.0)|42",
    );
    bad(
        "weather,location=us midwest temperature=82",
        28,
        "expected '=' after field key \"midwest\", found ' '",
    );
    bad(
        "weather,location=us,midwest temperature=82",
        28,
        "expected '=' after tag key \"midwest\", found ' '",
    );
}

#[test]
fn field_keys_escape_comma_equals_and_space() {
    good(
        r"weather temp\=rature=82",
        "weather||temp=rature=Float(82.0)|42",
    );
    good(
        r"weather temp\,erature=82",
        "weather||temp,erature=Float(82.0)|42",
    );
    good(
        r"weather temp\ erature=82",
        "weather||temp erature=Float(82.0)|42",
    );
    bad(
        "weather temp,erature=82",
        13,
        "expected '=' after field key \"temp\", found ','",
    );
}

#[test]
fn string_values_escape_double_quote_and_backslash() {
    good(
        r#"weather temperature="too\"hot\"""#,
        r#"weather||temperature=String("too\"hot\"")|42"#,
    );
    // The documented backslash table: a backslash before anything but '"' or '\' is literal.
    for (written, stored) in [
        (r"too hot\cold", r"too hot\cold"),
        (r"too hot\\cold", r"too hot\cold"),
        (r"too hot\\\cold", r"too hot\\cold"),
        (r"too hot\\\\cold", r"too hot\\cold"),
        (r"too hot\\\\\cold", r"too hot\\\cold"),
        (r"ends with \\", r"ends with \"),
    ] {
        good(
            &format!("weather temperature_str=\"{written}\""),
            &format!("weather||temperature_str=String({stored:?})|42"),
        );
    }
}

#[test]
fn backslashes_in_names() {
    // `\\` is one backslash; a backslash before any other character stays as written.
    good(r"m,path=C:\\dir\\ v=1", r"m|path=C:\dir\|v=Float(1.0)|42");
    good(r"m,path=C:\dir v=1", r"m|path=C:\dir|v=Float(1.0)|42");
    good(r"m\\ v=1", r"m\||v=Float(1.0)|42");
    // A backslash before the space that ends the tags escapes it, so the tags run on.
    bad(r"m,t=a\ v=1", 9, "unexpected '=' in the value of tag \"t\"");
}

#[test]
fn quotes_in_names_are_part_of_the_name() {
    good(
        r#""weather",'loc'="us" temperature=82"#,
        r#""weather"|'loc'="us"|temperature=Float(82.0)|42"#,
    );
}

#[test]
fn unicode_names() {
    good(
        "天气,地点=北京 温度=82,emoji=\"🌡\"",
        "天气|地点=北京|温度=Float(82.0),emoji=String(\"🌡\")|42",
    );
}

#[test]
fn tokens_keep_the_raw_text_and_unescape_on_demand() {
    let line = parse_line(br#"wea\ ther,loc\=x=us\,mid temp\ c="a\"b",n=3i 7"#)
        .unwrap()
        .unwrap();
    assert_eq!(line.measurement.raw(), r"wea\ ther");
    assert!(line.measurement.has_escapes());
    assert_eq!(line.measurement.to_string(), "wea ther");
    assert_eq!(line.tags[0].0.to_string(), "loc=x");
    assert_eq!(line.tags[0].1.to_string(), "us,mid");
    assert_eq!(line.fields[0].0.to_string(), "temp c");
    match line.fields[0].1 {
        Value::String(t) => {
            assert_eq!(t.raw(), r#"a\"b"#);
            assert_eq!(t.to_string(), r#"a"b"#);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(line.fields[1].1, Value::Integer(3));
    assert_eq!(line.timestamp, Some(7));
}

// ---- comments, blank lines, line endings ----

#[test]
fn comments_and_blank_lines_are_skipped_but_counted() {
    let body = "# a comment\n\n   \n  # indented comment\nm v=1\n\nbad\n";
    let (points, errors) = parse(body);
    assert_eq!(points, vec!["m||v=Float(1.0)|42"]);
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].column), (7, 4));
    assert_eq!(parse_line(b"# comment").unwrap(), None);
    assert_eq!(parse_line(b"").unwrap(), None);
}

#[test]
fn crlf_line_endings() {
    let (points, errors) = parse("m v=1 1\r\nm v=2 2\r\n# c\r\n\r\nm v=\"x\"\r\n");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        points,
        vec![
            "m||v=Float(1.0)|1",
            "m||v=Float(2.0)|2",
            "m||v=String(\"x\")|42"
        ]
    );
    // A carriage return elsewhere is an ordinary character.
    let (points, _) = parse("m,t=a\rb v=1\n");
    assert_eq!(points, vec!["m|t=a\rb|v=Float(1.0)|42"]);
}

#[test]
fn a_body_without_a_final_newline() {
    let (points, _) = parse("m v=1\nm v=2");
    assert_eq!(points.len(), 2);
}

#[test]
fn invalid_utf8_is_refused_per_line() {
    let body = b"m v=1\nm,t=\xffx v=2\nm v=\"\xc3(\"\nm v=3\n";
    let mut parser = Parser::new(Limits::default());
    let mut batch = WriteBatch::new();
    let report = parser.parse_into(body, Precision::Nanoseconds, 0, &mut batch);
    assert_eq!(report.accepted, 2);
    let at: Vec<(usize, usize)> = report.rejected.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(at, vec![(2, 5), (3, 6)]);
    assert!(report.rejected[0]
        .message
        .contains("invalid UTF-8 (byte 0xff)"));
    assert_eq!(report.rejected[0].text, "m,t=\u{fffd}x v=2");
    let e = parse_line(b"m v=\"\xff\"").unwrap_err();
    assert_eq!(e.column, 6);
}

#[test]
fn duplicates_are_refused_at_the_second_occurrence() {
    bad("m,a=1,a=2 v=1", 7, "tag key 'a' appears twice");
    bad("m v=1i,v=2i", 8, "field 'v' appears twice");
}

#[test]
fn error_display_names_line_and_column() {
    let (_, errors) = parse("m v=1\nweather,host temp=1\n");
    assert_eq!(
        errors[0].to_string(),
        format!("line 2, column 13: {}", errors[0].message)
    );
    assert!(errors[0]
        .message
        .starts_with("expected '=' after tag key \"host\", found ' '"));
}
