//! Markdown rendering of an [`ExportDocument`].
//!
//! Text people wrote is made inert by [`escape_user_text`]: every ASCII punctuation
//! character gets a backslash. CommonMark guarantees that any backslash-escaped ASCII
//! punctuation is a literal character, and every piece of Markdown syntax — headings,
//! lists, quotes, emphasis, code, links, images, raw HTML, tables, and GitHub's
//! autolinks (`www.`, `https:`, `@`) — starts with or needs one. Line breaks in user
//! text become spaces so a line can never start a new block. The raw file has more
//! backslashes than a hand-written one; the rendered page looks normal.

use super::document::{Block, ExportDocument, Line, Origin, Span};

/// Makes text a person wrote inert in Markdown (see the module docs).
pub fn escape_user_text(text: &str) -> String {
    // Line breaks, tabs and other control characters become spaces, so the text stays
    // on one line; then outer spaces go, so emphasis around it stays valid.
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out = String::with_capacity(one_line.len() + one_line.len() / 4);
    for c in one_line.trim().chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn span(s: &Span) -> String {
    let text = match s.origin {
        Origin::User => escape_user_text(&s.text),
        Origin::Kring => s.text.clone(),
    };
    // Empty emphasis ("****") would be read as a horizontal rule.
    if s.strong && !text.is_empty() {
        format!("**{text}**")
    } else {
        text
    }
}

fn line(l: &Line) -> String {
    l.spans.iter().map(span).collect()
}

fn table(columns: &[String], rows: &[Vec<Line>]) -> String {
    let row = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut out = row(columns.to_vec());
    out += &row(columns.iter().map(|_| "---".to_owned()).collect());
    for r in rows {
        out += &row(r.iter().map(line).collect());
    }
    out
}

fn block(b: &Block) -> String {
    match b {
        Block::Paragraph { line: l } => format!("{}\n", line(l)),
        Block::List { items } => items.iter().map(|i| format!("- {}\n", line(i))).collect(),
        Block::Table { columns, rows } => table(columns, rows),
        Block::Note { text } => format!("_{text}_\n"),
    }
}

/// The whole document as CommonMark (with a GitHub-style table for agreements).
pub fn render(doc: &ExportDocument) -> String {
    let mut out = format!("# {}\n\n", line(&doc.title));
    for m in &doc.meta {
        out += &format!("- {}\n", line(m));
    }
    for section in &doc.sections {
        out += &format!("\n## {}\n", section.heading);
        for b in &section.blocks {
            out += "\n";
            out += &block(b);
        }
    }
    out += &format!("\n---\n\n{}\n", line(&doc.footer));
    out
}
