//! `tally query` and `tally shell`: run queries on a running server through its `POST /query`
//! and print the tables; `tally saved`: list, show, save, delete and run its saved queries
//! through `/queries`.
//!
//! ```text
//! tally query "SHOW TAG VALUES FROM requests WITH KEY = endpoint" [--format table|csv|json]
//!     [--epoch ns|us|ms|s] [--param key=abc] [--param limit:=10] [--addr 127.0.0.1:8086]
//! tally shell [--addr ...]
//! tally saved list [--format table|csv|json]
//! tally saved show NAME [--json]
//! tally saved save NAME --query "... $key ..." [--param-type key=string ...]
//!     [--default key=abc ...] [--description TEXT]
//! tally saved delete NAME
//! tally saved run NAME [--param key=abc ...] [--format ...] [--epoch ...]
//! ```
//!
//! Both ask the server for JSON with nanosecond times, which reads back exactly, and print it in
//! the chosen format with [`tally_query::format`]. A query the server rejects prints its message
//! with the line and a caret under the spot on stderr; `tally query` then exits 1.
//!
//! `tally shell` on a terminal is a prompt with line editing and history (kept in
//! `$HOME/.tally_history`; none when `HOME` is unset): a statement runs once a line ends with
//! `;` (it may span lines), `\format csv|json|table` changes the output, `\q`, `exit` or Ctrl-D
//! quits and Ctrl-C drops the statement being typed. When stdin is not a terminal it runs the
//! statements read from stdin the same way, prints every answer, and exits 1 if any failed.

use crate::cli::{
    OutputFormat, QueryArgs, QueryClientArgs, SavedArgs, SavedCommand, SavedListArgs,
    SavedNameArgs, SavedRunArgs, SavedSaveArgs, SavedShowArgs, ServerArgs, ShellArgs,
};
use crate::client::Client;
use crate::saved::{check_name, SavedQuery};
use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use clap::ValueEnum as _;
use hyper::StatusCode;
use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;
use serde_json::{json, Map, Value};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tally_query::format::{self, EpochUnit, TimeFormat};
use tally_query::{Cell, Column, ColumnType, Table};

/// Longest the commands wait for one answer. The server stops a query at its own budget
/// (`[query] timeout_s`) long before this; this only guards against a server that hangs.
const TIMEOUT: Duration = Duration::from_secs(3600);

/// Where the shell keeps its history, under `$HOME`.
const HISTORY_FILE: &str = ".tally_history";

/// Runs `tally query`: prints the result on stdout, or the server's error on stderr and exit
/// code 1.
pub(crate) fn query(args: QueryArgs) -> Result<ExitCode> {
    let session = Session::new(&args.client)?;
    let mut out = std::io::stdout().lock();
    match session.run(&args.query)? {
        Outcome::Tables(tables) => {
            print_ignoring_closed_pipe(&mut out, &session.render(&tables))?;
            Ok(ExitCode::SUCCESS)
        }
        Outcome::Failed(detail) => {
            eprintln!("{detail}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Runs `tally shell`: a prompt on a terminal, otherwise the statements on stdin.
pub(crate) fn shell(args: ShellArgs) -> Result<ExitCode> {
    let mut session = Session::new(&args.client)?;
    if std::io::stdin().is_terminal() {
        interactive(&mut session)?;
        Ok(ExitCode::SUCCESS)
    } else {
        let stdin = std::io::stdin().lock();
        let mut out = std::io::stdout().lock();
        let mut err = std::io::stderr().lock();
        script(&mut session, stdin, &mut out, &mut err)
    }
}

/// What the server said about a query.
#[derive(Debug)]
enum Outcome {
    /// It ran: one table per statement.
    Tables(Vec<Table>),
    /// It did not: the message to show (with a caret when the server gave one).
    Failed(String),
}

/// A connection to the server and how to print what it answers.
#[derive(Debug)]
struct Session {
    client: Client,
    format: OutputFormat,
    epoch: Option<EpochUnit>,
    params: Map<String, Value>,
}

impl Session {
    fn new(args: &QueryClientArgs) -> Result<Session> {
        Ok(Session {
            client: Client::new(&args.addr, TIMEOUT)?,
            format: args.format,
            epoch: args.epoch,
            params: args.params.iter().cloned().collect(),
        })
    }

    /// Sends `text` to the server. `Err` only when the server cannot be asked or answers
    /// something that is not tally's.
    fn run(&self, text: &str) -> Result<Outcome> {
        self.ask(
            "/query?epoch=ns",
            &json!({ "q": text, "params": self.params }),
        )
    }

    /// Runs the saved query `name` with the session's parameters.
    fn run_saved(&self, name: &str) -> Result<Outcome> {
        self.ask(
            &format!("/queries/{name}/run?epoch=ns"),
            &json!({ "params": self.params }),
        )
    }

    /// Posts `body` to `path`, which answers tables with nanosecond times as `/query` does.
    fn ask(&self, path: &str, body: &Value) -> Result<Outcome> {
        let (status, answer) = self.client.post(
            path,
            "application/json",
            serde_json::to_vec(body).context("encoding the request")?,
        )?;
        let addr = self.client.addr();
        match json_answer(addr, path, status, &answer)? {
            Ok(value) => {
                let tables =
                    format::from_json(&value, TimeFormat::Epoch(EpochUnit::Nanoseconds))
                        .with_context(|| format!("reading the answer of the server at {addr}"))?;
                Ok(Outcome::Tables(tables))
            }
            Err(message) => Ok(Outcome::Failed(message)),
        }
    }

    /// The tables in the session's format.
    fn render(&self, tables: &[Table]) -> String {
        let time = self.epoch.map_or(TimeFormat::Rfc3339, TimeFormat::Epoch);
        match self.format {
            OutputFormat::Table => format::text(tables, time),
            OutputFormat::Csv => format::csv(tables, time),
            OutputFormat::Json => {
                let mut text =
                    serde_json::to_string_pretty(&format::json(tables, time)).unwrap_or_default();
                text.push('\n');
                text
            }
        }
    }
}

/// The JSON a call to `path` answered: `Ok(Ok(value))` on success (`null` for an empty body),
/// `Ok(Err(message))` when the server refused (its message, with the caret when it gave one,
/// ready for stderr), `Err` when the answer is not tally's.
fn json_answer(
    addr: &str,
    path: &str,
    status: StatusCode,
    body: &[u8],
) -> Result<std::result::Result<Value, String>> {
    if status.is_success() && body.is_empty() {
        return Ok(Ok(Value::Null));
    }
    let route = path.split('?').next().unwrap_or(path);
    let value: Value = serde_json::from_slice(body).with_context(|| {
        format!(
            "the server at {addr} answered {status} with something that is not JSON; is it \
             tally, and new enough to have {route}?"
        )
    })?;
    if status.is_success() {
        return Ok(Ok(value));
    }
    let message = ["detail", "error"]
        .iter()
        .find_map(|k| value.get(k).and_then(Value::as_str))
        .ok_or_else(|| anyhow!("the server at {addr} answered {status} without a message"))?;
    Ok(Err(if message.starts_with("error") {
        message.to_owned()
    } else {
        format!("error: {message}")
    }))
}

/// Runs `tally saved ...`: prints the answer on stdout, or the server's refusal on stderr and
/// exit code 1.
pub(crate) fn saved(args: SavedArgs) -> Result<ExitCode> {
    match args.command {
        SavedCommand::List(a) => saved_list(a),
        SavedCommand::Show(a) => saved_show(a),
        SavedCommand::Save(a) => saved_save(a),
        SavedCommand::Delete(a) => saved_delete(a),
        SavedCommand::Run(a) => saved_run(a),
    }
}

/// A client for `tally saved` commands that print no query result.
fn saved_client(server: &ServerArgs) -> Result<Client> {
    Client::new(&server.addr, TIMEOUT)
}

/// Prints what a `/queries` call answered: `print` makes the text of a success; a refusal
/// goes to stderr with exit code 1.
fn finish(
    client: &Client,
    path: &str,
    (status, body): (StatusCode, Bytes),
    print: impl FnOnce(StatusCode, &Value) -> Result<String>,
) -> Result<ExitCode> {
    match json_answer(client.addr(), path, status, &body)? {
        Ok(value) => {
            let text = print(status, &value)?;
            print_ignoring_closed_pipe(&mut std::io::stdout().lock(), &text)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("{message}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The saved queries of a `/queries` answer.
fn queries_of(value: &Value) -> Result<Vec<SavedQuery>> {
    serde_json::from_value(value.get("queries").cloned().unwrap_or(Value::Null))
        .context("reading the list of saved queries the server answered")
}

/// `$key string`, `$from time = "2026-01-01"`.
fn describe_param(p: &crate::saved::ParamDecl) -> String {
    match &p.default {
        Some(d) => format!("${} {} = {d}", p.name, p.ty),
        None => format!("${} {}", p.name, p.ty),
    }
}

fn saved_list(args: SavedListArgs) -> Result<ExitCode> {
    let client = saved_client(&args.server)?;
    let path = "/queries";
    let answer = client.get(path)?;
    finish(&client, path, answer, |_, value| {
        if args.format == OutputFormat::Json {
            let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
            text.push('\n');
            return Ok(text);
        }
        let column = |name: &str| Column {
            name: name.to_owned(),
            ty: ColumnType::String,
        };
        let mut table = Table::new(vec![
            column("name"),
            column("params"),
            column("description"),
            column("updated_at"),
        ]);
        for q in queries_of(value)? {
            let params: Vec<String> = q.params.iter().map(describe_param).collect();
            table.rows.push(vec![
                Cell::String(q.name),
                Cell::String(params.join(", ")),
                Cell::String(q.description),
                Cell::String(q.updated_at),
            ]);
        }
        let tables = [table];
        Ok(match args.format {
            OutputFormat::Csv => format::csv(&tables, TimeFormat::Rfc3339),
            _ => format::text(&tables, TimeFormat::Rfc3339),
        })
    })
}

fn saved_show(args: SavedShowArgs) -> Result<ExitCode> {
    check_name(&args.name).map_err(|e| anyhow!(e))?;
    let client = saved_client(&args.server)?;
    let path = format!("/queries/{}", args.name);
    let answer = client.get(&path)?;
    finish(&client, &path, answer, |_, value| {
        if args.json {
            let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
            text.push('\n');
            return Ok(text);
        }
        let q: SavedQuery = serde_json::from_value(value.clone())
            .context("reading the saved query the server answered")?;
        Ok(show_text(&q))
    })
}

/// A saved query as `tally saved show` prints it.
fn show_text(q: &SavedQuery) -> String {
    let mut out = format!("name:        {}\n", q.name);
    if !q.description.is_empty() {
        out.push_str(&format!("description: {}\n", q.description));
    }
    for (i, p) in q.params.iter().enumerate() {
        let label = if i == 0 { "params:" } else { "" };
        out.push_str(&format!("{label:<13}{}", describe_param(p)));
        if let Some(d) = &p.description {
            out.push_str(&format!("  ({d})"));
        }
        out.push('\n');
    }
    out.push_str(&format!("created:     {}\n", q.created_at));
    out.push_str(&format!("updated:     {}\n", q.updated_at));
    out.push_str(&format!("\n{}\n", q.query.trim_end()));
    out
}

fn saved_save(args: SavedSaveArgs) -> Result<ExitCode> {
    check_name(&args.name).map_err(|e| anyhow!(e))?;
    if let Some((key, _)) = args
        .defaults
        .iter()
        .find(|(k, _)| !args.param_types.iter().any(|(n, _)| n == k))
    {
        return Err(anyhow!(
            "--default {key}=... is for a parameter not declared with --param-type; add \
             --param-type {key}=TYPE"
        ));
    }
    let params: Vec<Value> = args
        .param_types
        .iter()
        .map(|(name, ty)| {
            let mut p = json!({ "name": name, "type": ty.name() });
            if let Some((_, d)) = args.defaults.iter().find(|(k, _)| k == name) {
                p["default"] = d.clone();
            }
            p
        })
        .collect();
    let body = json!({
        "query": args.query,
        "description": args.description.unwrap_or_default(),
        "params": params,
    });
    let client = saved_client(&args.server)?;
    // POST saves as PUT does (the client sends GET and POST only).
    let path = format!("/queries/{}", args.name);
    let answer = client.post(
        &path,
        "application/json",
        serde_json::to_vec(&body).context("encoding the request")?,
    )?;
    finish(&client, &path, answer, |status, _| {
        let what = if status == StatusCode::CREATED {
            "saved"
        } else {
            "replaced"
        };
        Ok(format!("{what} `{}`\n", args.name))
    })
}

fn saved_delete(args: SavedNameArgs) -> Result<ExitCode> {
    check_name(&args.name).map_err(|e| anyhow!(e))?;
    let client = saved_client(&args.server)?;
    let path = format!("/queries/{}", args.name);
    let answer = client.delete(&path)?;
    finish(&client, &path, answer, |_, _| {
        Ok(format!("deleted `{}`\n", args.name))
    })
}

fn saved_run(args: SavedRunArgs) -> Result<ExitCode> {
    check_name(&args.name).map_err(|e| anyhow!(e))?;
    let session = Session::new(&args.client)?;
    let mut out = std::io::stdout().lock();
    match session.run_saved(&args.name)? {
        Outcome::Tables(tables) => {
            print_ignoring_closed_pipe(&mut out, &session.render(&tables))?;
            Ok(ExitCode::SUCCESS)
        }
        Outcome::Failed(detail) => {
            eprintln!("{detail}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Writes `text`; a reader that went away (`tally query ... | head`) is not an error.
fn print_ignoring_closed_pipe(out: &mut dyn Write, text: &str) -> Result<()> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing the result to stdout")
        }
        _ => Ok(()),
    }
}

/// A shell command (a line starting with `\`, or `exit`/`quit`), only taken between statements.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Quit,
    Format(OutputFormat),
    Help,
    /// Not a command; the text says what is.
    Unknown(String),
}

const HELP: &str = "End each statement with ; (it may span lines). Commands:
  \\format table|csv|json   how results print
  \\q, exit, quit           leave (also Ctrl-D); Ctrl-C drops the statement being typed
  \\?                       this help";

/// What a line of input did.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// A command.
    Command(Command),
    /// More lines are needed (or the line was blank).
    More,
    /// These statements are complete: run them.
    Run(String),
}

/// The lines of the statement being typed.
#[derive(Debug, Default)]
struct Pending {
    text: String,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
    }

    fn clear(&mut self) {
        self.text.clear();
    }

    /// Takes one line of input.
    fn feed(&mut self, line: &str) -> Step {
        if self.is_empty() {
            self.clear();
            if line.trim().is_empty() {
                return Step::More;
            }
            if let Some(command) = command(line) {
                return Step::Command(command);
            }
        }
        self.text.push_str(line);
        self.text.push('\n');
        if ends_statement(&self.text) {
            let text = std::mem::take(&mut self.text);
            return Step::Run(text.trim_end().to_owned());
        }
        Step::More
    }

    /// What is left at the end of input, if anything.
    fn finish(&mut self) -> Option<String> {
        let text = std::mem::take(&mut self.text);
        (!text.trim().is_empty()).then(|| text.trim_end().to_owned())
    }
}

/// The command a line holds, if it is one.
fn command(line: &str) -> Option<Command> {
    let line = line.trim().trim_end_matches(';').trim_end();
    if ["exit", "quit"]
        .iter()
        .any(|w| line.eq_ignore_ascii_case(w))
    {
        return Some(Command::Quit);
    }
    let rest = line.strip_prefix('\\')?;
    let mut words = rest.split_whitespace();
    Some(
        match (words.next().unwrap_or(""), words.next(), words.next()) {
            ("q" | "quit", None, _) => Command::Quit,
            ("?" | "h" | "help", None, _) => Command::Help,
            ("format", Some(name), None) => match OutputFormat::from_str(name, true) {
                Ok(f) => Command::Format(f),
                Err(_) => Command::Unknown(format!(
                    "unknown format '{name}'; use \\format table, \\format csv or \\format json"
                )),
            },
            ("format", _, _) => {
                Command::Unknown("\\format takes one of table, csv or json".to_owned())
            }
            (other, _, _) => {
                Command::Unknown(format!("unknown command \\{other}; \\? lists the commands"))
            }
        },
    )
}

/// Whether `text` ends with a `;` outside strings, quoted names, regexes and `--` comments, so
/// the statements before it are complete.
fn ends_statement(text: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Code,
        Str,
        Ident,
        Regex,
        Comment,
    }
    let mut state = State::Code;
    // The last two characters of code that are not blank (a regex follows `=~` or `!~`).
    let mut last = [' ', ' '];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match state {
            State::Code => {
                let opens = match c {
                    '\'' => Some(State::Str),
                    '"' => Some(State::Ident),
                    '-' if chars.peek() == Some(&'-') => Some(State::Comment),
                    '/' if last[1] == '~' && matches!(last[0], '=' | '!') => Some(State::Regex),
                    _ => None,
                };
                if let Some(s) = opens {
                    state = s;
                }
                if state != State::Comment && !c.is_whitespace() {
                    last = [last[1], c];
                }
            }
            State::Str | State::Ident | State::Regex => {
                let close = match state {
                    State::Str => '\'',
                    State::Ident => '"',
                    _ => '/',
                };
                if c == '\\' {
                    chars.next();
                } else if c == close {
                    // `''` inside a string is a quote, not its end.
                    if state == State::Str && chars.peek() == Some(&'\'') {
                        chars.next();
                    } else {
                        state = State::Code;
                        last = [last[1], c];
                    }
                }
            }
            State::Comment => {
                if c == '\n' {
                    state = State::Code;
                }
            }
        }
    }
    matches!(state, State::Code | State::Comment) && last[1] == ';'
}

/// The history file, or `None` when `HOME` is unset.
fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(HISTORY_FILE))
}

/// The prompt on a terminal.
fn interactive(session: &mut Session) -> Result<()> {
    let mut editor = DefaultEditor::new().context("cannot start the line editor")?;
    let history = history_path();
    if let Some(path) = &history {
        // A first run has no history yet; an unreadable one only costs the old entries.
        let _ = editor.load_history(path);
    }
    println!(
        "tally shell on {}: end statements with ;  \\? for help, \\q to quit",
        session.client.addr()
    );
    let mut pending = Pending::default();
    loop {
        let prompt = if pending.is_empty() {
            "tally> "
        } else {
            "   ..> "
        };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e).context("reading the prompt"),
        };
        match pending.feed(&line) {
            Step::More => {}
            Step::Command(command) => {
                let _ = editor.add_history_entry(line.trim());
                if !apply(
                    session,
                    command,
                    &mut std::io::stdout(),
                    &mut std::io::stderr(),
                ) {
                    break;
                }
            }
            Step::Run(text) => {
                let _ = editor.add_history_entry(text.as_str());
                let mut out = std::io::stdout().lock();
                let mut err = std::io::stderr().lock();
                // On a terminal a lost server is reported and the prompt stays: it may come back.
                if let Err(e) = run_and_print(session, &text, &mut out, &mut err) {
                    let _ = writeln!(err, "error: {e:#}");
                }
            }
        }
    }
    if let Some(path) = &history {
        if let Err(e) = editor.save_history(path) {
            eprintln!(
                "warning: could not save the history to {}: {e}",
                path.display()
            );
        }
    }
    Ok(())
}

/// Carries out a command; `false` means quit.
fn apply(
    session: &mut Session,
    command: Command,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> bool {
    match command {
        Command::Quit => return false,
        Command::Format(f) => session.format = f,
        Command::Help => {
            let _ = writeln!(out, "{HELP}");
        }
        Command::Unknown(msg) => {
            let _ = writeln!(err, "error: {msg}");
        }
    }
    true
}

/// Runs statements and prints the answer; `Ok(false)` when the server rejected them.
fn run_and_print(
    session: &Session,
    text: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<bool> {
    match session.run(text)? {
        Outcome::Tables(tables) => {
            print_ignoring_closed_pipe(out, &session.render(&tables))?;
            Ok(true)
        }
        Outcome::Failed(detail) => {
            writeln!(err, "{detail}").context("writing to stderr")?;
            Ok(false)
        }
    }
}

/// Runs the statements read from `input` (not a terminal) in order, each as soon as it is
/// complete; exit code 1 if any failed. A server that cannot be reached stops the run.
fn script(
    session: &mut Session,
    input: impl BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitCode> {
    let mut pending = Pending::default();
    let mut failed = false;
    let mut printed = false;
    let mut run = |session: &Session, text: &str, out: &mut dyn Write, err: &mut dyn Write| {
        match session.run(text)? {
            Outcome::Tables(tables) => {
                // A blank line between answers, as between the tables of one answer.
                if printed && session.format != OutputFormat::Json {
                    writeln!(out).context("writing to stdout")?;
                }
                printed = true;
                print_ignoring_closed_pipe(out, &session.render(&tables))
            }
            Outcome::Failed(detail) => {
                failed = true;
                writeln!(err, "{detail}").context("writing to stderr")
            }
        }
    };
    for line in input.lines() {
        let line = line.context("reading statements from stdin")?;
        match pending.feed(&line) {
            Step::More => {}
            Step::Command(Command::Quit) => break,
            Step::Command(command) => {
                apply(session, command, out, err);
            }
            Step::Run(text) => run(session, &text, out, err)?,
        }
    }
    if let Some(text) = pending.finish() {
        run(session, &text, out, err)?;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_at_a_semicolon_outside_quotes_regexes_and_comments() {
        for (text, complete) in [
            ("SHOW MEASUREMENTS;", true),
            ("SHOW MEASUREMENTS ;  \n", true),
            ("SHOW MEASUREMENTS", false),
            ("SELECT 'a;'", false),
            ("SELECT 'a;';", true),
            ("SELECT 'it''s;' FROM m", false),
            ("SELECT 'it\\';' FROM m;", true),
            ("SELECT \"a;b\" FROM m", false),
            ("SELECT a FROM m WHERE k =~ /x;y/", false),
            ("SELECT a FROM m WHERE k !~ /x\\/;/;", true),
            ("SELECT a / 2 FROM m; -- done;", true),
            ("SELECT a FROM m -- not yet;", false),
            ("SELECT a FROM m -- a comment;\n;", true),
            ("SELECT a / 2;", true),
            ("", false),
        ] {
            assert_eq!(ends_statement(text), complete, "{text:?}");
        }
    }

    #[test]
    fn lines_collect_until_a_statement_ends() {
        let mut p = Pending::default();
        assert_eq!(p.feed(""), Step::More);
        assert!(p.is_empty());
        assert_eq!(p.feed("SHOW TAG KEYS"), Step::More);
        assert_eq!(
            p.feed("\\q"),
            Step::More,
            "commands only between statements"
        );
        assert_eq!(
            p.feed("FROM requests;"),
            Step::Run("SHOW TAG KEYS\n\\q\nFROM requests;".into())
        );
        assert!(p.is_empty());
        assert_eq!(p.feed("exit"), Step::Command(Command::Quit));
        assert_eq!(p.feed("SHOW MEASUREMENTS"), Step::More);
        assert_eq!(p.finish(), Some("SHOW MEASUREMENTS".into()));
        assert_eq!(p.finish(), None);
    }

    #[test]
    fn a_saved_query_shows_as_text() {
        let q: SavedQuery = serde_json::from_value(json!({
            "name": "by_key",
            "description": "Requests of one key",
            "query": "SELECT count(*) FROM requests WHERE key = $key AND time >= $from\n",
            "params": [
                {"name": "key", "type": "string", "description": "the API key"},
                {"name": "from", "type": "time", "default": "2026-01-01"}
            ],
            "created_at": "2026-01-01T00:00:00.000Z",
            "updated_at": "2026-01-02T00:00:00.000Z"
        }))
        .unwrap();
        assert_eq!(
            show_text(&q),
            "name:        by_key\n\
             description: Requests of one key\n\
             params:      $key string  (the API key)\n             \
             $from time = \"2026-01-01\"\n\
             created:     2026-01-01T00:00:00.000Z\n\
             updated:     2026-01-02T00:00:00.000Z\n\
             \n\
             SELECT count(*) FROM requests WHERE key = $key AND time >= $from\n"
        );
    }

    #[test]
    fn answers_are_json_or_the_servers_message() {
        let ok = json_answer("a", "/queries", StatusCode::OK, b"{\"queries\": []}").unwrap();
        assert_eq!(ok, Ok(json!({"queries": []})));
        let empty = json_answer("a", "/queries/x", StatusCode::NO_CONTENT, b"").unwrap();
        assert_eq!(empty, Ok(Value::Null));
        let refused = json_answer(
            "a",
            "/queries/x",
            StatusCode::NOT_FOUND,
            b"{\"error\": \"no saved query named `x`\"}",
        )
        .unwrap();
        assert_eq!(refused, Err("error: no saved query named `x`".to_owned()));
        let caret = json_answer(
            "a",
            "/queries/x",
            StatusCode::BAD_REQUEST,
            b"{\"error\": \"m\", \"detail\": \"error at line 1, column 2: m\"}",
        )
        .unwrap();
        assert_eq!(caret, Err("error at line 1, column 2: m".to_owned()));
        let err = json_answer("a", "/queries?x", StatusCode::NOT_FOUND, b"<html>")
            .unwrap_err()
            .to_string();
        assert!(err.contains("new enough to have /queries?"), "{err}");
    }

    #[test]
    fn commands_parse_or_say_what_is_wrong() {
        assert_eq!(command("\\q"), Some(Command::Quit));
        assert_eq!(command("  QUIT; "), Some(Command::Quit));
        assert_eq!(
            command("\\format CSV"),
            Some(Command::Format(OutputFormat::Csv))
        );
        assert_eq!(
            command("\\format json"),
            Some(Command::Format(OutputFormat::Json))
        );
        assert_eq!(command("\\?"), Some(Command::Help));
        assert_eq!(command("SHOW MEASUREMENTS;"), None);
        assert!(
            matches!(command("\\format xml"), Some(Command::Unknown(m)) if m.contains("table"))
        );
        assert!(matches!(command("\\format"), Some(Command::Unknown(_))));
        assert!(matches!(command("\\x"), Some(Command::Unknown(m)) if m.contains("\\x")));
    }
}
