//! Exports of a circle's plan: Markdown and a printable HTML page, in Dutch or English.
//!
//! The export follows the sections of a familiegroepsplan (Jeugdwet) / persoonlijk plan
//! (Wmo): the question, concerns, goals, agreements (who does what, when, who checks),
//! the professionals' contributions, safety conditions, "if it goes differently", the
//! evaluation date, the participants and who approved the plan.
//!
//! [`build_document`] builds the format-independent [`ExportDocument`] once; the
//! [`markdown`] and [`html`] renderers only lay it out, and both escape every piece of
//! text a person wrote. Dates and times are shown in the circle's time zone, and a
//! day (an all-day task, a deadline typed as a date, the evaluation day) without a
//! clock time ([`When`]).

mod build;
pub mod calendar;
mod document;
pub mod html;
pub mod markdown;
pub mod text;

#[cfg(test)]
mod tests;

pub use build::build_document;
pub use document::{Block, ExportDocument, Line, Origin, Section, SectionKind, Span};
pub use text::{moment_phrase, occurrence_phrase, relation_name, schedule_phrase, When};

use crate::plan::view::{Language, PlanView};
use kring_trust::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Output format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Markdown,
    Html,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Markdown => "md",
            ExportFormat::Html => "html",
        }
    }
}

impl std::str::FromStr for ExportFormat {
    type Err = crate::Error;

    /// Accepts `md`, `markdown` and `html`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(ExportFormat::Markdown),
            "html" => Ok(ExportFormat::Html),
            _ => Err(crate::Error::InvalidValue {
                field: "export format",
                value: s.to_owned(),
                expected: "md|html".to_owned(),
            }),
        }
    }
}

impl std::fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The plan rendered in `format` and `lang`, dated `now`.
pub fn export_plan(
    plan: &PlanView,
    now: Timestamp,
    format: ExportFormat,
    lang: Language,
) -> String {
    let doc = build_document(plan, now, lang);
    match format {
        ExportFormat::Markdown => markdown::render(&doc),
        ExportFormat::Html => html::render(&doc),
    }
}
