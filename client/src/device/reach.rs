//! What reaches this device's person: the reminder schedule, their reminder choices
//! (kept in this device's store, never in the plan) and the news since they last
//! looked. The rules are in [`kring_plan::reminders`] and [`kring_plan::news`]; this only
//! gathers who is looking and remembers what was already seen.

use automerge::ChangeHash;
use kring_trust::Error as TrustError;

use super::Device;
use crate::error::{Error, Result};
use kring_plan::news::{self, Notification};
use kring_plan::plan::{CircleId, Language, PlanView};
use kring_plan::reminders::{self, Reminder, ReminderSettings, Viewer};
use kring_trust::time::Timestamp;

/// Per-circle settings name the circle in their key: `Store::delete_circle` erases
/// them with it.
pub(super) fn settings_key(circle: &CircleId) -> String {
    format!("reminders:{circle}")
}

fn settings_error(e: serde_json::Error) -> Error {
    Error::Trust(TrustError::Malformed {
        what: "reminder settings",
        detail: e.to_string(),
    })
}

pub(super) fn seen_key(circle: &CircleId) -> String {
    format!("news_seen:{circle}")
}

impl Device {
    /// Who this device's person is in `circle`, for reminders and news, reading in
    /// the language they chose ([`Device::read_in`]).
    pub fn viewer(&self, circle: &CircleId, view: &PlanView) -> Result<Viewer> {
        let member = self.me(circle)?;
        let logged = self.logged_capability(circle, &member)?;
        Ok(Viewer {
            reading_in: self.reading_in,
            ..Viewer::of(view, &member, logged)
        })
    }

    /// Reminders, news and where-you-stand messages in `language` from now on, in
    /// every circle (`None`: each circle's own language). Not stored: a command or
    /// an app session says it each time it opens the device.
    pub fn read_in(&mut self, language: Option<Language>) {
        self.reading_in = language;
    }

    /// This device's reminder choices for `circle` (the defaults until changed).
    pub fn reminder_settings(&self, circle: &CircleId) -> Result<ReminderSettings> {
        self.store.circle(circle)?;
        match self.store.setting(&settings_key(circle))? {
            None => Ok(ReminderSettings::default()),
            Some(bytes) => serde_json::from_slice(&bytes).map_err(settings_error),
        }
    }

    pub fn set_reminder_settings(
        &self,
        circle: &CircleId,
        settings: &ReminderSettings,
    ) -> Result<()> {
        self.store.circle(circle)?;
        let bytes = serde_json::to_vec(settings).map_err(settings_error)?;
        self.store.set_setting(&settings_key(circle), &bytes)
    }

    /// Every reminder in `[now, now + days)` for this device's person, across all
    /// circles on the device (or just `only`), sorted by time.
    pub fn reminders(
        &self,
        only: Option<&CircleId>,
        now: Timestamp,
        days: u32,
    ) -> Result<Vec<Reminder>> {
        let mut all = Vec::new();
        for stored in self.circles()? {
            if only.is_some_and(|c| *c != stored.id) {
                continue;
            }
            let view = self.view(&stored.id)?;
            let viewer = self.viewer(&stored.id, &view)?;
            let settings = self.reminder_settings(&stored.id)?;
            all.extend(reminders::schedule(&view, &viewer, &settings, now, days));
        }
        all.sort_by(|a, b| (a.at, a.kind, &a.id).cmp(&(b.at, b.kind, &b.id)));
        Ok(all)
    }

    /// What changed in `circle` since this device last asked, as notifications for
    /// its person (see [`kring_plan::news`]), and remembers that it has now seen it.
    ///
    /// The first time a device asks about a circle there is no "before": it answers
    /// nothing and starts from here, rather than announcing the whole plan.
    pub fn what_changed(&self, circle: &CircleId) -> Result<Vec<Notification>> {
        let plan = self.plan(circle)?;
        let heads = plan.heads();
        let seen = self
            .store
            .setting(&seen_key(circle))?
            .map(|b| decode_heads(&b));
        let news = match seen {
            Some(Some(seen)) if seen != heads => {
                // Heads this document no longer knows (a store rebuilt from the relay):
                // start over from here.
                match plan.view_at(&seen) {
                    Ok(before) => {
                        let after = plan.view();
                        news::what_changed(&before, &after, &self.viewer(circle, &after)?)
                    }
                    Err(_) => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        self.store
            .set_setting(&seen_key(circle), &encode_heads(&heads))?;
        Ok(news)
    }
}

fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

/// `None` for bytes that are not whole hashes (then nothing counts as seen).
fn decode_heads(bytes: &[u8]) -> Option<Vec<ChangeHash>> {
    if !bytes.len().is_multiple_of(32) {
        return None;
    }
    bytes
        .chunks_exact(32)
        .map(|c| <[u8; 32]>::try_from(c).ok().map(ChangeHash))
        .collect()
}

/// What a push led to: the sync of the circle it named, and what to show.
#[derive(Debug, Clone)]
pub struct Wakened {
    pub circle: CircleId,
    pub report: super::SyncReport,
    pub news: Vec<Notification>,
}

impl Device {
    /// A push arrived (its decrypted payload): syncs the circle it names and returns
    /// what to show, written here from the plan — the push itself carried nothing but
    /// the circle's id and the relay's cursor.
    pub fn on_push(&mut self, payload: &[u8], now: Timestamp) -> Result<Wakened> {
        let wake = kring_trust::wake_up::PushWakeUp::parse(payload)?;
        self.store.circle(&wake.circle)?;
        let report = self.sync(&wake.circle, now)?;
        let news = self.what_changed(&wake.circle)?;
        Ok(Wakened {
            circle: wake.circle,
            report,
            news,
        })
    }
}
