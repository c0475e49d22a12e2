//! A printable, self-contained HTML page of an [`ExportDocument`].
//!
//! Self-contained: inline CSS only, no scripts, no images, no links, no external
//! resources — it can be mailed, saved and printed as is. A Content-Security-Policy
//! that forbids every source except inline styles backs that up in the browser.
//! Every text (ours and people's) is escaped with `html_escape::encode_safe`
//! (`& < > " ' /`), and only ever placed in element content, never in attributes.

use super::document::{Block, ExportDocument, Line, Origin, Span};

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif;line-height:1.5;color:#1a1a1a;background:#fff;margin:0}
main{max-width:48rem;margin:0 auto;padding:2rem 1.25rem}
h1{font-size:1.8rem;margin:0 0 .75rem}
h2{font-size:1.25rem;margin:2rem 0 .5rem;padding-bottom:.2rem;border-bottom:2px solid #2b6cb0;break-after:avoid}
ul.meta{list-style:none;padding:0;margin:0 0 1rem;color:#444}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #bbb;padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#edf2f7}
tr{break-inside:avoid}
.note{font-style:italic;color:#555}
footer{margin-top:2.5rem;font-size:.85rem;color:#555;border-top:1px solid #ccc;padding-top:.5rem}
@page{margin:1.8cm}
@media print{body{font-size:11pt}main{max-width:none;padding:0}h2{border-bottom-color:#000}th{background:#eee}}
";

/// Escapes text for element content; line breaks become `<br>` (added after escaping).
fn escape(text: &str) -> String {
    html_escape::encode_safe(text).replace('\n', "<br>")
}

/// People's text: line breaks kept (any style), other control characters become
/// spaces, outer whitespace trimmed.
fn escape_user(text: &str) -> String {
    let normalized: String = text
        .replace("\r\n", "\n")
        .chars()
        .map(|c| match c {
            '\r' => '\n',
            c if c.is_control() && c != '\n' => ' ',
            c => c,
        })
        .collect();
    escape(normalized.trim())
}

fn span(s: &Span) -> String {
    let text = match s.origin {
        Origin::User => escape_user(&s.text),
        Origin::Kring => escape(&s.text),
    };
    if s.strong && !text.is_empty() {
        format!("<strong>{text}</strong>")
    } else {
        text
    }
}

/// A line as plain text on one line (for `<title>`, which cannot hold markup).
fn one_line(l: &Line) -> String {
    let text: String = l
        .plain_text()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    text.trim().to_owned()
}

fn line(l: &Line) -> String {
    l.spans.iter().map(span).collect()
}

fn table(columns: &[String], rows: &[Vec<Line>]) -> String {
    let head: String = columns
        .iter()
        .map(|c| format!("<th scope=\"col\">{}</th>", escape(c)))
        .collect();
    let body: String = rows
        .iter()
        .map(|r| {
            format!(
                "<tr>{}</tr>\n",
                r.iter()
                    .map(|c| format!("<td>{}</td>", line(c)))
                    .collect::<String>()
            )
        })
        .collect();
    format!("<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n")
}

fn block(b: &Block) -> String {
    match b {
        Block::Paragraph { line: l } => format!("<p>{}</p>\n", line(l)),
        Block::List { items } => {
            let items: String = items
                .iter()
                .map(|i| format!("<li>{}</li>\n", line(i)))
                .collect();
            format!("<ul>\n{items}</ul>\n")
        }
        Block::Table { columns, rows } => table(columns, rows),
        Block::Note { text } => format!("<p class=\"note\">{}</p>\n", escape(text)),
    }
}

/// The whole document as one HTML page.
pub fn render(doc: &ExportDocument) -> String {
    let title = line(&doc.title);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>{plain_title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n",
        lang = doc.language.as_str(),
        plain_title = html_escape::encode_safe(&one_line(&doc.title)),
    );
    let meta: String = doc
        .meta
        .iter()
        .map(|m| format!("<li>{}</li>\n", line(m)))
        .collect();
    out += &format!("<ul class=\"meta\">\n{meta}</ul>\n");
    for section in &doc.sections {
        out += &format!(
            "<section id=\"{}\">\n<h2>{}</h2>\n",
            section.kind.anchor(),
            escape(&section.heading)
        );
        for b in &section.blocks {
            out += &block(b);
        }
        out += "</section>\n";
    }
    out += &format!(
        "<footer>{}</footer>\n</main>\n</body>\n</html>\n",
        line(&doc.footer)
    );
    out
}
