//! The interactive REPL: multi-line input (a statement ends with `;`), history in the data dir.

use std::path::Path;
use std::process::ExitCode;

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use tarn::Tarn;

use super::{RunOptions, print_error, run_sql, session};

pub async fn run(tarn: &Tarn, data_dir: &Path, options: &RunOptions) -> ExitCode {
    let mut editor = match DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return ExitCode::FAILURE;
        }
    };
    let history = data_dir.join(".tarn_history");
    let _ = editor.load_history(&history);
    let mut session = session(tarn);
    println!(
        "tarn {} — end statements with ';', \\q to quit",
        env!("CARGO_PKG_VERSION")
    );
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            format!("tarn:{}> ", session.session().current_database())
        } else {
            "    ...> ".to_string()
        };
        match editor.readline(&prompt) {
            Ok(line) => {
                let trimmed = line.trim();
                if buffer.is_empty() && matches!(trimmed, "\\q" | "quit" | "exit") {
                    break;
                }
                buffer.push_str(&line);
                buffer.push('\n');
                if !trimmed.ends_with(';') {
                    continue;
                }
                let _ = editor.add_history_entry(buffer.trim());
                if let Err(e) = run_sql(&mut session, &buffer, options).await {
                    print_error(&e);
                }
                buffer.clear();
            }
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    let _ = editor.save_history(&history);
    ExitCode::SUCCESS
}
