//! Golden files: `tests/golden/parse_ok.txt` (each query and its canonical print) and
//! `tests/golden/parse_errors.txt` (each bad query and its exact rendered error).
//!
//! Format: cases separated by a blank line; lines starting with `#` are comments; a case is the
//! query on one line (`␤` stands for a line break) followed by the expected output. Run with
//! `TALLY_BLESS=1` to rewrite the expected outputs from the current parser, then review the diff.

use std::path::PathBuf;

use tally_query::{parse_statements, ParseError};

const NEWLINE_MARK: char = '␤';

struct Case {
    comments: Vec<String>,
    query: String,
    expected: String,
}

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(path(name))
        .unwrap_or_else(|e| panic!("reading {}: {e}", path(name).display()))
}

fn read_cases(name: &str) -> Vec<Case> {
    let text = read(name);
    let mut cases = Vec::new();
    for block in text.split("\n\n") {
        let (comments, rest): (Vec<&str>, Vec<&str>) =
            block.lines().partition(|l| l.starts_with('#'));
        let Some((query, expected)) = rest.split_first() else {
            assert!(
                cases.is_empty(),
                "{name}: a comment-only block after the header"
            );
            continue;
        };
        cases.push(Case {
            comments: comments.iter().map(|c| c.to_string()).collect(),
            query: query.to_string(),
            expected: expected.join("\n"),
        });
    }
    cases
}

/// Either rewrite the file with `actual` outputs (bless) or fail listing every mismatch.
fn check(name: &str, header: &str, cases: &[Case], actual: &[String]) {
    if std::env::var("TALLY_BLESS").as_deref() == Ok("1") {
        let mut out = String::from(header);
        for (case, got) in cases.iter().zip(actual) {
            out.push('\n');
            for c in &case.comments {
                out.push_str(c);
                out.push('\n');
            }
            out.push_str(&case.query);
            out.push('\n');
            out.push_str(got);
            out.push('\n');
        }
        std::fs::write(path(name), out)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path(name).display()));
        return;
    }
    let mut failures = Vec::new();
    for (case, got) in cases.iter().zip(actual) {
        if &case.expected != got {
            failures.push(format!(
                "query:    {}\nexpected:\n{}\ngot:\n{}\n",
                case.query, case.expected, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases in {name} differ (TALLY_BLESS=1 rewrites them):\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The comment block at the top of a golden file, kept when blessing.
fn header(name: &str) -> String {
    let text = read(name);
    let first_block = text.split("\n\n").next().unwrap_or("");
    if first_block.lines().all(|l| l.starts_with('#')) {
        format!("{first_block}\n")
    } else {
        String::new()
    }
}

fn query_text(case: &Case) -> String {
    case.query.replace(NEWLINE_MARK, "\n")
}

#[test]
fn good_queries_print_canonically_and_round_trip() {
    let name = "parse_ok.txt";
    let cases = read_cases(name);
    assert!(cases.len() >= 60, "only {} good queries", cases.len());
    let mut actual = Vec::new();
    for case in &cases {
        let text = query_text(case);
        let stmts = parse_statements(&text).unwrap_or_else(|e| panic!("{text}\n{e}"));
        assert!(!stmts.is_empty(), "{text}");
        let printed: Vec<String> = stmts.iter().map(|s| s.to_string()).collect();
        let printed = printed.join("; ");
        // The canonical print parses to the same tree and prints the same again.
        let again = parse_statements(&printed).unwrap_or_else(|e| panic!("{printed}\n{e}"));
        assert_eq!(again, stmts, "round trip of {printed}");
        let reprinted: Vec<String> = again.iter().map(|s| s.to_string()).collect();
        assert_eq!(reprinted.join("; "), printed);
        actual.push(printed);
    }
    check(name, &header(name), &cases, &actual);
}

#[test]
fn bad_queries_give_exact_errors() {
    let name = "parse_errors.txt";
    let cases = read_cases(name);
    assert!(cases.len() >= 30, "only {} bad queries", cases.len());
    let actual: Vec<String> = cases
        .iter()
        .map(|case| {
            let text = query_text(case);
            match parse_statements(&text) {
                Ok(stmts) => panic!("{text} parsed: {stmts:?}"),
                Err(e) => render(&e),
            }
        })
        .collect();
    check(name, &header(name), &cases, &actual);
}

fn render(e: &ParseError) -> String {
    e.to_string()
}

/// Every line of every ```sql block in docs/query-language.md parses, and so does its print.
#[test]
fn documented_examples_parse() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/query-language.md");
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut in_sql = false;
    let mut count = 0;
    for line in doc.lines() {
        match line.trim() {
            "```sql" => in_sql = true,
            "```" => in_sql = false,
            query if in_sql && !query.is_empty() => {
                let stmts = parse_statements(query).unwrap_or_else(|e| panic!("{query}\n{e}"));
                for s in stmts {
                    assert_eq!(parse_statements(&s.to_string()).as_ref(), Ok(&vec![s]));
                }
                count += 1;
            }
            _ => {}
        }
    }
    assert!(count >= 20, "only {count} documented examples");
}
