//! The hand-over: once the circle agreed its plan, the wijkteam or the youth-care
//! provider needs it in their own system. [`fhir`] writes it as an HL7 FHIR R4
//! `Bundle` (a `CarePlan` with its `Goal`s, the main person as the subject, the circle
//! as its `CareTeam`); [`pdf`] as a printable familiegroepsplan / persoonlijk plan in
//! PDF/A-2b, with the sections of the Markdown and HTML exports.
//!
//! What goes out is the main person's decision ([`Consent`]): people's names only when
//! she says so, otherwise their relation to her ("familie", "buurvrouw"). Who may hand
//! over (the main person or an admin) is a plan rule (`Operation::RecordHandover`),
//! and the hand-over is recorded in the plan by the caller.
//!
//! Pure: the plan view and `now` in, bytes out.

pub mod error;
pub mod fhir;
pub mod pdf;

pub use error::{Error, Result};

use kring_plan::export::{build_document, ExportDocument, Line, Origin, Span};
use kring_plan::plan::view::{HandoverFormat, Language, PlanView};
use kring_trust::time::Timestamp;

/// The hand-over's bytes in `format`: the FHIR `Bundle` as JSON, or the PDF in `lang`.
/// Recording it in the plan is the caller's (after the bytes exist, so a failure here
/// records nothing).
pub fn export(
    plan: &PlanView,
    consent: &Consent,
    format: HandoverFormat,
    now: Timestamp,
    lang: Language,
) -> Result<Vec<u8>> {
    match format {
        HandoverFormat::Fhir => serde_json::to_vec_pretty(&fhir::bundle(plan, consent, now))
            .map_err(|e| Error::Document(e.to_string())),
        HandoverFormat::Pdf => pdf::render(&document(plan, consent, now, lang), now),
    }
}

/// The plan as the export's document for a hand-over: its sections, and to whom it
/// was handed over. Without consent for names, people are their relation to the main
/// person ([`Consent::names`]).
pub fn document(
    plan: &PlanView,
    consent: &Consent,
    now: Timestamp,
    lang: Language,
) -> ExportDocument {
    let mut doc = build_document(&anonymous_unless_consented(plan, consent), now, lang);
    let label = match lang {
        Language::Nl => "Overgedragen aan: ",
        Language::En => "Handed over to: ",
    };
    doc.meta.push(Line {
        spans: vec![
            Span {
                text: label.to_owned(),
                origin: Origin::Kring,
                strong: false,
            },
            Span {
                text: consent.recipient.clone(),
                origin: Origin::User,
                strong: false,
            },
        ],
    });
    doc
}

/// The plan with every person's name replaced by their relation to the main person,
/// unless she consented to names.
fn anonymous_unless_consented(plan: &PlanView, consent: &Consent) -> PlanView {
    let mut plan = plan.clone();
    if !consent.names {
        let lang = plan.circle.language;
        for member in &mut plan.members {
            member.display_name =
                kring_plan::export::relation_name(lang, member.relation).to_owned();
            member.role_label.clear();
        }
    }
    plan
}

/// What the main person agreed to hand over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// Who receives the plan ("Wijkteam Noord"): recorded in the plan, and named in
    /// the hand-over itself.
    pub recipient: String,
    /// People's names (hers and the circle's) go with the plan. Without, each person
    /// is their relation to her and nothing else a person typed about them.
    pub names: bool,
}
