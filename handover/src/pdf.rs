//! The plan as a printable PDF/A-2b: the export's document ([`ExportDocument`], the
//! same sections as the Markdown and HTML exports) laid out on A4 pages by krilla,
//! which writes the PDF and checks it against PDF/A-2b as it does (fonts embedded and
//! subset, XMP metadata, an sRGB output intent). The font is DejaVu Sans (embedded from
//! the `dejavu` crate): it covers Dutch and the other Latin scripts people's names are
//! in.
//!
//! Text people wrote is drawn as glyphs and nothing else: a PDF has no markup to
//! inject. Characters that would change how text is read or that the font cannot
//! draw (controls, bidirectional overrides and isolates) are left out, so what a
//! reader sees and what a text extractor reads are the same characters in the same
//! order.

use krilla::configure::{Archival, ConfigurationBuilder, Validator};
use krilla::geom::Point;
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};
use kring_plan::export::{Block, ExportDocument, Line};
use kring_trust::time::Timestamp;

use crate::{Error, Result};

/// A4 in points.
const PAGE: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 56.0;
const BODY: f32 = 10.5;
const HEADING: f32 = 14.0;
const TITLE: f32 = 18.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.4;

/// The document as PDF/A-2b bytes, dated `now` (PDF/A requires a creation date).
pub fn render(doc: &ExportDocument, now: Timestamp) -> Result<Vec<u8>> {
    let fonts = Fonts::load()?;
    let mut pages = Layout::new(&fonts);
    pages.paragraph(&inert(&doc.title.plain_text()), Style::Title);
    for line in &doc.meta {
        pages.paragraph(&inert(&line.plain_text()), Style::Body);
    }
    for section in &doc.sections {
        pages.gap();
        pages.paragraph(&inert(&section.heading), Style::Heading);
        for block in &section.blocks {
            for (text, style) in block_lines(block) {
                pages.paragraph(&text, style);
            }
        }
    }
    pages.gap();
    pages.paragraph(&inert(&doc.footer.plain_text()), Style::Body);
    write(doc, &fonts, pages.finish(), now)
}

/// The lines a block shows, in reading order.
fn block_lines(block: &Block) -> Vec<(String, Style)> {
    let text = |line: &Line| inert(&line.plain_text());
    match block {
        Block::Paragraph { line } => vec![(text(line), Style::Body)],
        Block::List { items } => items
            .iter()
            .map(|item| (format!("• {}", text(item)), Style::Body))
            .collect(),
        // A row reads as its cells with their column's label.
        Block::Table { columns, rows } => rows
            .iter()
            .map(|row| {
                let cells: Vec<String> = columns
                    .iter()
                    .zip(row)
                    .map(|(column, cell)| format!("{}: {}", inert(column), text(cell)))
                    .collect();
                (format!("• {}", cells.join(" · ")), Style::Body)
            })
            .collect(),
        Block::Note { text } => vec![(inert(text), Style::Body)],
    }
}

/// The text without the characters that change how it is read (controls, bidi
/// embeddings, overrides and isolates, marks).
pub fn inert(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(*c as u32, 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069 | 0x061C)
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Title,
    Heading,
    Body,
}

impl Style {
    fn size(self) -> f32 {
        match self {
            Style::Title => TITLE,
            Style::Heading => HEADING,
            Style::Body => BODY,
        }
    }
}

/// The two faces, for drawing (krilla) and for measuring (rustybuzz's font parser).
struct Fonts {
    regular: Font,
    bold: Font,
}

impl Fonts {
    fn load() -> Result<Self> {
        let load = |bytes: &'static [u8]| {
            Font::new(bytes.into(), 0).ok_or_else(|| Error::Document("the embedded font".into()))
        };
        Ok(Fonts {
            regular: load(dejavu::sans::regular())?,
            bold: load(dejavu::sans::bold())?,
        })
    }

    fn face(&self, style: Style) -> (&Font, &'static [u8]) {
        match style {
            Style::Body => (&self.regular, dejavu::sans::regular()),
            Style::Title | Style::Heading => (&self.bold, dejavu::sans::bold()),
        }
    }
}

/// The width of `text` at `size` points, from the font's advances. A character
/// the font has no glyph for counts as the replacement it is drawn with.
fn width(face: &rustybuzz::ttf_parser::Face<'_>, text: &str, size: f32) -> f32 {
    let units = f32::from(face.units_per_em());
    let advance = |c: char| {
        face.glyph_index(c)
            .and_then(|g| face.glyph_hor_advance(g))
            .unwrap_or(face.units_per_em()) as f32
    };
    text.chars().map(advance).sum::<f32>() / units * size
}

/// One line placed on a page.
struct Placed {
    page: usize,
    y: f32,
    text: String,
    style: Style,
}

/// Lays lines out top to bottom, wrapping at word boundaries and starting a page when
/// one is full.
struct Layout<'f> {
    fonts: &'f Fonts,
    page: usize,
    y: f32,
    placed: Vec<Placed>,
}

impl<'f> Layout<'f> {
    fn new(fonts: &'f Fonts) -> Self {
        Layout {
            fonts,
            page: 0,
            y: MARGIN,
            placed: Vec::new(),
        }
    }

    fn gap(&mut self) {
        self.y += BODY;
    }

    fn paragraph(&mut self, text: &str, style: Style) {
        let (_, bytes) = self.fonts.face(style);
        let Ok(face) = rustybuzz::ttf_parser::Face::parse(bytes, 0) else {
            return;
        };
        let available = PAGE.0 - 2.0 * MARGIN;
        for line in wrap(text, |t| width(&face, t, style.size()), available) {
            let height = style.size() * LEADING;
            if self.y + height > PAGE.1 - MARGIN {
                self.page += 1;
                self.y = MARGIN;
            }
            self.y += height;
            self.placed.push(Placed {
                page: self.page,
                y: self.y - (LEADING - 1.0) * style.size(),
                text: line,
                style,
            });
        }
    }

    fn finish(self) -> Vec<Placed> {
        self.placed
    }
}

/// Greedy word wrap; a word wider than the line is broken between characters.
fn wrap(text: &str, width: impl Fn(&str) -> f32, available: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if width(&candidate) <= available {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        for c in word.chars() {
            current.push(c);
            if width(&current) > available {
                current.pop();
                lines.push(std::mem::take(&mut current));
                current.push(c);
            }
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// Draws the placed lines and writes the PDF/A-2b file.
fn write(
    doc: &ExportDocument,
    fonts: &Fonts,
    placed: Vec<Placed>,
    now: Timestamp,
) -> Result<Vec<u8>> {
    let configuration = ConfigurationBuilder::new()
        .set_validator(Validator::A(Archival::A2_B))
        .finish()
        .map_err(|e| Error::Document(format!("{e:?}")))?;
    let mut pdf = Document::new_with(SerializeSettings {
        configuration,
        ..SerializeSettings::default()
    });
    pdf.set_metadata(
        Metadata::new()
            .title(inert(&doc.title.plain_text()))
            .language(doc.language.as_str().to_owned())
            .creator("Kring".to_owned())
            .creation_date(pdf_date(now)),
    );
    let pages = placed.last().map_or(1, |p| p.page + 1);
    for page_number in 0..pages {
        let settings = PageSettings::from_wh(PAGE.0, PAGE.1)
            .ok_or_else(|| Error::Document("page size".into()))?;
        let mut page = pdf.start_page_with(settings);
        let mut surface = page.surface();
        for line in placed.iter().filter(|p| p.page == page_number) {
            let (font, _) = fonts.face(line.style);
            surface.draw_text(
                Point::from_xy(MARGIN, line.y),
                font.clone(),
                line.style.size(),
                &line.text,
                false,
                TextDirection::LeftToRight,
            );
        }
        surface.finish();
        page.finish();
    }
    pdf.finish().map_err(|e| Error::Document(format!("{e:?}")))
}

/// `now` as a PDF date, in UTC.
fn pdf_date(now: Timestamp) -> DateTime {
    use chrono::{Datelike, Timelike};
    let at = chrono::DateTime::from_timestamp_millis(now.0).unwrap_or_default();
    let narrow = |n: u32| u8::try_from(n).unwrap_or(0);
    DateTime::new(u16::try_from(at.year()).unwrap_or(1970))
        .month(narrow(at.month()))
        .day(narrow(at.day()))
        .hour(narrow(at.hour()))
        .minute(narrow(at.minute()))
        .second(narrow(at.second()))
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_and_breaks_only_between_them() {
        let width = |t: &str| t.chars().count() as f32;
        let lines = wrap("de zus van Jan rijdt op woensdag", width, 10.0);
        assert_eq!(lines, ["de zus van", "Jan rijdt", "op", "woensdag"]);
        assert_eq!(wrap("", width, 10.0), [""]);
        assert_eq!(wrap("abcdefghijkl", width, 5.0), ["abcde", "fghij", "kl"]);
    }

    #[test]
    fn text_that_changes_how_it_reads_is_left_out() {
        assert_eq!(inert("a\u{202E}b\u{2066}c\u{0007}d\në"), "abcdë");
    }
}
