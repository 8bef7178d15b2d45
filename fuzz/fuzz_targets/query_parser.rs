//! Arbitrary text through the query parser: never a panic; every accepted statement prints to
//! text that parses back to an equal tree; every error renders with a caret.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tally_query::{parse_statement, parse_statements};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_statements(text) {
        Ok(stmts) => {
            for stmt in stmts {
                let printed = stmt.to_string();
                assert_eq!(parse_statement(&printed).as_ref(), Ok(&stmt), "{printed}");
            }
        }
        Err(err) => {
            assert!(err.line >= 1 && err.column >= 1 && err.len >= 1);
            let _ = err.to_string();
        }
    }
});
