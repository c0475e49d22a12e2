//! One plain-language line per signal, in Dutch or English, for tables and
//! notifications. Coming dates are named by their day in the circle's time zone rather than "in 2 days",
//! which would be ambiguous with whole-day counts. The line contains names and titles
//! people wrote: it is plain text, to be escaped by whatever displays it.

use super::signals::{Signal, SignalKind, UnclaimedReason};
use crate::export::text::{days_phrase, format_day, join_names, pick};
use crate::plan::view::Language;

impl Signal {
    /// A short sentence saying what is going on, e.g. "3 dagen te laat: Boodschappen",
    /// with days named as they are in `zone` (the circle's, [`super::CircleReport::timezone`]).
    pub fn describe(&self, lang: Language, zone: &str) -> String {
        let days = |n: i64| days_phrase(lang, n);
        match &self.kind {
            SignalKind::OverdueTask {
                title,
                days_overdue,
                missed_occurrences,
                claimed_by,
                held,
                ..
            } => {
                let mut line = match lang {
                    Language::Nl => format!("{} te laat: {title}", days(*days_overdue)),
                    Language::En => format!("{} overdue: {title}", days(*days_overdue)),
                };
                if *missed_occurrences > 1 {
                    line += &pick(
                        lang,
                        format!(" ({missed_occurrences} keer niet gedaan)"),
                        format!(" ({missed_occurrences} times missed)"),
                    );
                }
                if !held {
                    line += pick(
                        lang,
                        " — niemand had het opgepakt",
                        " — nobody had taken it",
                    );
                } else if !claimed_by.is_empty() {
                    let names: Vec<String> = claimed_by.iter().map(|m| m.name.clone()).collect();
                    line += &format!(
                        " — {} {}",
                        pick(lang, "opgepakt door", "taken by"),
                        join_names(lang, &names)
                    );
                }
                line
            }
            SignalKind::UnclaimedTask {
                title,
                reason: UnclaimedReason::DueSoon,
                next_due_at,
                ..
            } => {
                let when = next_due_at
                    .map(|at| format!(" ({})", format_day(lang, zone, at)))
                    .unwrap_or_default();
                pick(
                    lang,
                    format!("Nog niemand voor: {title}{when}"),
                    format!("Nobody yet for: {title}{when}"),
                )
            }
            SignalKind::UnclaimedTask {
                title,
                reason: UnclaimedReason::OpenLong,
                open_days,
                ..
            } => pick(
                lang,
                format!("Staat al {} open: {title}", days(*open_days)),
                format!("Open for {}: {title}", days(*open_days)),
            ),
            SignalKind::OverbookedTask {
                title,
                slots,
                claims,
                not_needed,
                ..
            } => {
                let mut line = pick(
                    lang,
                    format!("Te veel mensen: {claims} zeiden ja voor {slots} plek(ken): {title}"),
                    format!("Too many people: {claims} said yes for {slots} place(s): {title}"),
                );
                // Only a follow-up report keeps who is waiting (see `for_audience`).
                if !not_needed.is_empty() {
                    let names: Vec<String> = not_needed.iter().map(|m| m.name.clone()).collect();
                    line += &format!(
                        " — {}: {}",
                        pick(lang, "op de wachtlijst", "on the waiting list"),
                        join_names(lang, &names)
                    );
                }
                line
            }
            SignalKind::ReviewDue { review_at, .. } => {
                let when = format_day(lang, zone, *review_at);
                pick(
                    lang,
                    format!("Evaluatie van het plan op {when}"),
                    format!("Evaluation of the plan on {when}"),
                )
            }
            SignalKind::ReviewOverdue { days_overdue, .. } => pick(
                lang,
                format!("Evaluatie is {} te laat", days(*days_overdue)),
                format!("Evaluation is {} overdue", days(*days_overdue)),
            ),
            SignalKind::ReviewNotScheduled { .. } => pick(
                lang,
                "Er is geen datum voor de evaluatie",
                "No evaluation date set",
            )
            .to_owned(),
            SignalKind::CheckinDue { due_at, .. } => {
                let when = format_day(lang, zone, *due_at);
                pick(
                    lang,
                    format!("Gesprek na vier weken op {when}"),
                    format!("Four-week check-in on {when}"),
                )
            }
            SignalKind::CheckinOverdue { days_overdue, .. } => pick(
                lang,
                format!("Gesprek na vier weken is {} te laat", days(*days_overdue)),
                format!("Four-week check-in is {} overdue", days(*days_overdue)),
            ),
            SignalKind::SilentMember {
                member,
                silent_days,
                ..
            } => pick(
                lang,
                format!(
                    "Al {} niets gehoord van {}",
                    days(*silent_days),
                    member.name
                ),
                format!("Nothing from {} for {}", member.name, days(*silent_days)),
            ),
            SignalKind::LoadImbalance {
                member,
                share_percent,
                ..
            } => pick(
                lang,
                format!("{} doet {share_percent}% van het werk", member.name),
                format!("{} does {share_percent}% of the work", member.name),
            ),
            SignalKind::CircleQuiet { quiet_days, .. } => pick(
                lang,
                format!("Al {} niets gebeurd in de kring", days(*quiet_days)),
                format!("Nothing happened in the circle for {}", days(*quiet_days)),
            ),
            SignalKind::PlanHealthLow {
                percent,
                due,
                on_time,
            } => pick(
                lang,
                format!("Maar {on_time} van de {due} afspraken op tijd gedaan ({percent}%)"),
                format!("Only {on_time} of {due} agreements done on time ({percent}%)"),
            ),
        }
    }
}
