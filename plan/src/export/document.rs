//! The export's section model, independent of the output format.
//!
//! The builder turns a plan into an [`ExportDocument`] once; the Markdown and HTML
//! renderers only lay it out. Every piece of text records who wrote it
//! ([`Origin`]): renderers escape [`Origin::User`] text completely, so nothing a person
//! typed can become markup, links, headings, images or scripts.

use crate::plan::view::Language;
use serde::{Deserialize, Serialize};

/// Who wrote a piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Kring's own words: labels from `text.rs`, formatted dates and numbers.
    Kring,
    /// Anything a person wrote: names, titles, notes, the question, …
    User,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub text: String,
    pub origin: Origin,
    /// Shown in bold (e.g. a task's title).
    pub strong: bool,
}

/// A run of spans shown on one line (a paragraph, list item or table cell).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub spans: Vec<Span>,
}

impl Line {
    pub(crate) fn new() -> Self {
        Line::default()
    }

    pub(crate) fn kring(mut self, text: impl Into<String>) -> Self {
        self.spans.push(Span {
            text: text.into(),
            origin: Origin::Kring,
            strong: false,
        });
        self
    }

    pub(crate) fn user(mut self, text: impl Into<String>) -> Self {
        self.spans.push(Span {
            text: text.into(),
            origin: Origin::User,
            strong: false,
        });
        self
    }

    pub(crate) fn strong_user(mut self, text: impl Into<String>) -> Self {
        self.spans.push(Span {
            text: text.into(),
            origin: Origin::User,
            strong: true,
        });
        self
    }

    /// `Label: ` followed by the rest of the line.
    pub(crate) fn label(self, label: &str) -> Self {
        self.kring(format!("{label}: "))
    }

    /// All text, unescaped — for tests and plain-text uses.
    pub fn plain_text(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    Paragraph {
        line: Line,
    },
    List {
        items: Vec<Line>,
    },
    /// Column headings are Kring's labels.
    Table {
        columns: Vec<String>,
        rows: Vec<Vec<Line>>,
    },
    /// A remark by Kring, e.g. "Nothing filled in yet." (shown in italics).
    Note {
        text: String,
    },
}

/// The sections of a familiegroepsplan / persoonlijk plan, in export order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    Question,
    Concerns,
    Goals,
    Agreements,
    Professionals,
    Safety,
    Contingencies,
    Evaluation,
    Participants,
    Approvals,
}

impl SectionKind {
    /// Stable anchor id for the HTML export.
    pub fn anchor(self) -> &'static str {
        match self {
            SectionKind::Question => "question",
            SectionKind::Concerns => "concerns",
            SectionKind::Goals => "goals",
            SectionKind::Agreements => "agreements",
            SectionKind::Professionals => "professionals",
            SectionKind::Safety => "safety",
            SectionKind::Contingencies => "contingencies",
            SectionKind::Evaluation => "evaluation",
            SectionKind::Participants => "participants",
            SectionKind::Approvals => "approvals",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub kind: SectionKind,
    /// Kring's heading, in the document's language.
    pub heading: String,
    pub blocks: Vec<Block>,
}

/// A plan ready to be rendered, in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportDocument {
    pub language: Language,
    pub title: Line,
    /// Circle, main person, status, date.
    pub meta: Vec<Line>,
    pub sections: Vec<Section>,
    pub footer: Line,
}
