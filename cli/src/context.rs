//! What every command needs: this device (its identity and store), the clock, the
//! current circle and who "I" am in it, and turning what a user typed into ids.

use std::path::PathBuf;

use kring_client::device::Device;
use kring_client::store::StoredCircle;
use kring_plan::plan::{CircleId, CirclePlan, EntryId, MemberId, PlanView, TaskId};
use kring_trust::Timestamp;

use crate::args::Cli;
use crate::dates;
use crate::error::{CliError, CliResult};
use crate::i18n;

const CURRENT_CIRCLE: &str = "current_circle";

pub struct Context {
    pub device: Device,
    pub data_dir: PathBuf,
    /// The time plan operations are stamped with (`--now` for demos and tests).
    pub now: Timestamp,
    pub json: bool,
    /// What was given with `--lang`, as typed.
    pub lang_arg: Option<String>,
    circle_arg: Option<String>,
}

/// An open circle: the plan, and the member this device acts as.
pub struct OpenCircle {
    pub plan: CirclePlan,
    pub me: MemberId,
}

/// A circle being changed (inside [`Device::change`], which seals the result).
pub struct Editing<'a> {
    pub plan: &'a mut CirclePlan,
    pub me: &'a MemberId,
}

impl Context {
    pub fn open(cli: &Cli) -> CliResult<Context> {
        let dir = match &cli.data_dir {
            Some(dir) => dir.clone(),
            None => default_data_dir()?,
        };
        let mut device = Device::open_in(&dir)?;
        // `--lang` reaches what the device writes too: reminders and news.
        if let Some(lang) = &cli.lang {
            device.read_in(Some(crate::commands::parse(lang)?));
        }
        let now = match &cli.now {
            Some(s) => dates::parse(s)?,
            None => Timestamp::now(),
        };
        let ctx = Context {
            device,
            data_dir: dir,
            now,
            json: cli.json,
            lang_arg: cli.lang.clone(),
            circle_arg: cli.circle.clone(),
        };
        // Dates are typed and shown in the current circle's time zone, and kring
        // speaks the circle's language (unless `--lang` chose already).
        if let Ok(circle) = ctx.current() {
            if let Ok(view) = ctx.device.view(&circle.id) {
                dates::use_zone(&view.circle.timezone, now);
                i18n::use_language(view.circle.language);
            }
        }
        Ok(ctx)
    }

    /// What was given with `--circle`, as typed.
    pub fn circle_arg(&self) -> Option<&str> {
        self.circle_arg.as_deref()
    }

    /// The circle named by `--circle`, else the current one, else the only one.
    pub fn current(&self) -> CliResult<StoredCircle> {
        let circles = self.device.circles()?;
        if let Some(arg) = &self.circle_arg {
            return unique_prefix(circles.iter().map(|c| (c.id.as_str(), c)), arg, "circle")
                .cloned();
        }
        if let Some(current) = self.device.store().setting(CURRENT_CIRCLE)? {
            let current = String::from_utf8_lossy(&current).into_owned();
            if let Some(c) = circles.iter().find(|c| c.id.as_str() == current) {
                return Ok(c.clone());
            }
        }
        match circles.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(CliError::NotFound(t!("error-no-circle"))),
            _ => Err(CliError::Usage(t!("error-several-circles"))),
        }
    }

    pub fn set_current(&self, id: &CircleId) -> CliResult {
        Ok(self
            .device
            .store()
            .set_setting(CURRENT_CIRCLE, id.as_str().as_bytes())?)
    }

    pub fn open_current(&self) -> CliResult<OpenCircle> {
        let stored = self.current()?;
        Ok(OpenCircle {
            plan: self.device.plan(&stored.id)?,
            me: stored.me,
        })
    }

    pub fn has_circle_arg(&self) -> bool {
        self.circle_arg.is_some()
    }

    /// The circle named by `--circle` among every circle with sync state (joins
    /// waiting for their plan included), else all of them.
    pub fn syncable(&self) -> CliResult<Vec<CircleId>> {
        let records = self.device.store().sync_records()?;
        // An archive (closed on its relay) is never synced again; named explicitly it
        // answers why.
        let named = self.circle_arg.is_some();
        let ids: Vec<CircleId> = records
            .into_iter()
            .filter(|r| r.relay_url.is_some() && (named || r.closed_at.is_none()))
            .map(|r| r.circle)
            .collect();
        match &self.circle_arg {
            Some(arg) => {
                let one = unique_prefix(ids.iter().map(|c| (c.as_str(), c)), arg, "circle")?;
                Ok(vec![one.clone()])
            }
            None => Ok(ids),
        }
    }
}

fn default_data_dir() -> CliResult<PathBuf> {
    directories::ProjectDirs::from("nl", "Kring", "kring")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| CliError::Usage(t!("error-no-home")))
}

/// Finds the one item whose key starts with `typed` (ids are long; a prefix is enough).
pub fn unique_prefix<'a, T>(
    items: impl Iterator<Item = (&'a str, T)>,
    typed: &str,
    what: &str,
) -> CliResult<T> {
    let typed = typed.trim().to_ascii_lowercase();
    let what = i18n::word("thing", what);
    if typed.is_empty() {
        return Err(CliError::Usage(t!("error-give-id", what = what)));
    }
    let mut matches = items.filter(|(key, _)| key.starts_with(&typed));
    match (matches.next(), matches.next()) {
        (Some((_, item)), None) => Ok(item),
        (None, _) => Err(CliError::NotFound(t!(
            "error-no-match",
            what = what,
            typed = typed
        ))),
        (Some(_), Some(_)) => Err(CliError::Usage(t!(
            "error-several-match",
            what = what,
            typed = typed
        ))),
    }
}

/// A member by exact name (case-insensitive) or by id prefix.
pub fn member(view: &PlanView, typed: &str) -> CliResult<MemberId> {
    let by_name: Vec<_> = view
        .members
        .iter()
        .filter(|m| m.display_name.eq_ignore_ascii_case(typed.trim()))
        .collect();
    match by_name.as_slice() {
        [one] => return Ok(one.id.clone()),
        [] => {}
        _ => {
            return Err(CliError::Usage(t!(
                "error-several-members",
                name = typed.trim()
            )))
        }
    }
    unique_prefix(
        view.members.iter().map(|m| (m.id.as_str(), &m.id)),
        typed,
        "member",
    )
    .cloned()
}

pub fn task(view: &PlanView, typed: &str) -> CliResult<TaskId> {
    unique_prefix(
        view.tasks.iter().map(|t| (t.id.as_str(), &t.id)),
        typed,
        "task",
    )
    .cloned()
}

/// An entry id by prefix among `ids`.
pub fn entry<'a>(
    ids: impl Iterator<Item = &'a EntryId>,
    typed: &str,
    what: &str,
) -> CliResult<EntryId> {
    unique_prefix(ids.map(|id| (id.as_str(), id)), typed, what).cloned()
}
