//! `cargo course list`: the course map in the terminal.

use lesson_common::{Exit, usage};

use crate::registry::LESSONS;

pub(crate) const HELP: &str = "\
usage: cargo course list

The course map: each lesson with its chapter, the command that runs it, and the partner to start
first.";

pub fn main(args: Vec<String>) -> Result<(), Exit> {
    match args.first().map(String::as_str) {
        None => {}
        Some("--help" | "-h") => return crate::print(&format!("{HELP}\n")),
        Some(extra) => return Err(usage(format!("list takes no arguments, not '{extra}'"))),
    }
    let rows: Vec<[String; 5]> = LESSONS
        .iter()
        .enumerate()
        .map(|(i, l)| {
            [
                format!("{}", i + 1),
                l.name.to_string(),
                format!("ch. {}", l.chapter),
                l.run_command(),
                l.partner_name().to_string(),
            ]
        })
        .collect();
    let header = ["#", "lesson", "chapter", "run it", "partner"].map(String::from);
    let mut widths = [0; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(
        "\nStart a lesson's partner first, in a second terminal (servers: lessons 4 and 5).\n",
    );
    out.push_str("`cargo course tour` runs every pair on loopback in one go.\n");
    crate::print(&out)
}
