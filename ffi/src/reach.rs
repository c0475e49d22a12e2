//! What reaches people: the reminder schedule an app hands to the phone's local
//! notifications, this device's reminder choices, the news since the app last looked,
//! and `on_push` for a push wake-up — core's own types (`kring_plan::reminders`,
//! `kring_plan::news`), exposed with `#[uniffi::remote(...)]` like the rest.
//!
//! Nothing is decided here: who is reminded of what, and what a notification says, is
//! core's (`Device::reminders`, `Device::what_changed`, `Device::on_push`). Every word
//! is written on the device; the push that woke it carried only a circle id.

use kring_plan::news::{NewsKind, Notification};
use kring_plan::plan::{CircleId, TaskId};
use kring_plan::reminders::{ClockTime, Reminder, ReminderKind, ReminderSettings};
use kring_trust::Timestamp;

use crate::types::lift_parsed;

uniffi::custom_type!(ClockTime, String, {
    remote,
    lower: |t| t.to_string(),
    try_lift: |s| lift_parsed(ClockTime::parse, &s),
});

#[uniffi::remote(Enum)]
pub enum ReminderKind {
    TurnTomorrow,
    TurnSoon,
    NeedsPeople,
    TurnHandedOver,
    Review,
    Checkin,
    Digest,
}

/// One reminder: schedule a local notification with `id` (the same reminder keeps
/// its id when the schedule is computed again) at `at`, showing `title` and `text`.
#[uniffi::remote(Record)]
pub struct Reminder {
    pub id: String,
    pub at: Timestamp,
    pub kind: ReminderKind,
    pub circle: CircleId,
    pub task: Option<TaskId>,
    pub occurrence: Option<Timestamp>,
    pub title: String,
    pub text: String,
}

/// One circle's reminder choices on this device ("HH:MM" quiet hours in the circle's
/// time zone). They stay on this device, never in the shared plan.
#[uniffi::remote(Record)]
pub struct ReminderSettings {
    pub muted: bool,
    pub digest: bool,
    pub quiet_from: ClockTime,
    pub quiet_until: ClockTime,
}

#[uniffi::remote(Enum)]
pub enum NewsKind {
    Taken,
    NewTask,
    TurnFree,
    Done,
    Thanks,
    Joined,
    Meeting,
    Waitlisted,
    MovedUp,
    More,
}

/// Something that happened in the circle, in words for this device's person: show it
/// as a notification (`id` replaces an earlier one of the same event).
#[uniffi::remote(Record)]
pub struct Notification {
    pub id: String,
    pub kind: NewsKind,
    pub circle: CircleId,
    pub at: Timestamp,
    pub task: Option<TaskId>,
    pub occurrence: Option<Timestamp>,
    pub title: String,
    pub text: String,
}

/// The defaults for a circle nobody changed anything for: not muted, no digest,
/// quiet from 22:00 to 08:00.
#[uniffi::export]
pub fn default_reminder_settings() -> ReminderSettings {
    ReminderSettings::default()
}
