//! One function per command group. Each: open what it needs, call one `kring-core`
//! operation, save durably, print. No plan rules live here.

use std::path::{Path, PathBuf};

use kring_client::device::{FamilyTime, FamilyTimeChange};
use kring_client::Error as CoreError;
use kring_plan::export::{export_plan, ExportFormat};
use kring_plan::followup::my_week;
use kring_plan::plan::recurrence::{CivilStart, Recurrence};
use kring_plan::plan::view::HandoverFormat;
use kring_plan::plan::{
    CircleId, CirclePlan, Designation, Language, LogKind, MeetingUpdate, MemberId, NewMember,
    NewTask, OwnerKind, PlanList, PlanStatus, PlanView, Relation, Rsvp, Schedule, TaskCategory,
    TaskUpdate, TaskView,
};
use kring_trust::membership::Capability;
use kring_trust::Timestamp;
use serde::Serialize;

use crate::args::*;
use crate::context::{self, Context, Editing};
use crate::dates;
use crate::error::{CliError, CliResult};
use crate::i18n::{self, word};
use crate::network;
use crate::render;

/// Prints `value` as JSON with `--json`, else the human text.
pub fn output<T: Serialize>(ctx: &Context, value: &T, human: impl FnOnce() -> String) -> CliResult {
    if ctx.json {
        // JSON is for machines: serde escapes control characters, the text stays exact.
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        // Every answer ends its line, whether or not the text brings the newline.
        let text = human();
        let end = if text.ends_with('\n') { "" } else { "\n" };
        say_raw!("{text}{end}");
    }
    Ok(())
}

pub fn parse<T: std::str::FromStr<Err = kring_plan::Error>>(s: &str) -> CliResult<T> {
    Ok(s.parse::<T>()?)
}

/// Runs `op` on the current circle as "me"; when it returns, the change is durable
/// and sealed into the outbox for the next sync (see `Device::change`).
fn mutate<T>(
    ctx: &mut Context,
    op: impl FnOnce(&mut Editing<'_>, kring_trust::Timestamp) -> CliResult<T>,
) -> CliResult<T> {
    let circle = ctx.current()?.id;
    let now = ctx.now;
    ctx.device
        .change(&circle, now, |plan, me| op(&mut Editing { plan, me }, now))
}

pub fn run(ctx: &mut Context, command: Command) -> CliResult {
    match command {
        Command::Circle(cmd) => circle(ctx, cmd),
        Command::Show => {
            let circle = ctx.open_current()?;
            let view = circle.plan.view();
            let family = ctx.device.family_time(&view.circle.id)?;
            output(ctx, &view, || {
                let plan = render::plan(&view, &circle.me);
                match family.as_ref().and_then(family_time_line) {
                    Some(line) => format!("{line}\n\n{plan}"),
                    None => plan,
                }
            })
        }
        Command::Whoami => {
            let circle = ctx.current()?;
            let people = ctx.device.people(&circle.id)?;
            let me = people.into_iter().find(|p| p.id == circle.me);
            let circle_name = ctx.device.view(&circle.id)?.circle.name;
            output(ctx, &me, || match &me {
                Some(p) if !p.removed => {
                    let role = p
                        .capability
                        .map(|c| format!(", {}", word("capability", c.as_str())))
                        .unwrap_or_default();
                    match (&p.name, p.relation) {
                        (Some(name), Some(relation)) => t!(
                            "whoami-member",
                            name = name,
                            relation = word("relation", &relation.to_string()) + &role,
                            circle = &circle_name
                        ),
                        _ => t!("whoami-reader", circle = &circle_name, id = p.id.short()),
                    }
                }
                Some(_) => t!("whoami-removed", circle = &circle_name),
                None => t!(
                    "whoami-not-member",
                    id = circle.me.short(),
                    circle = &circle_name
                ),
            } + "\n")
        }
        Command::Member(cmd) => member(ctx, cmd),
        Command::Task(cmd) => task(ctx, cmd),
        Command::Plan(cmd) => plan(ctx, cmd),
        Command::Condition(cmd) => condition(ctx, cmd),
        Command::Offer(cmd) => offer(ctx, cmd),
        Command::Post { text, kind } => {
            let kind: LogKind = parse(&kind)?;
            mutate(ctx, |c, now| Ok(c.plan.post(c.me, kind, &text, now)?))?;
            say!("{}", t!("posted"));
            Ok(())
        }
        Command::Meeting(cmd) => meeting(ctx, cmd),
        Command::Export {
            file,
            out,
            signed: true,
            ..
        } => {
            let file = file
                .or(out)
                .ok_or_else(|| CliError::Usage(t!("error-give-bundle-file")))?;
            let circle = ctx.current()?.id;
            write_file(&file, &ctx.device.export_signed(&circle)?)?;
            say!("{}", t!("wrote-signed", file = file.display().to_string()));
            Ok(())
        }
        Command::Export {
            file,
            format,
            out,
            signed: false,
            to,
            names,
        } => match HandoverFormat::parse(&format) {
            Some(format) => handover(ctx, file.or(out), format, to, names),
            None => export(ctx, file.or(out), &format),
        },
        Command::FamilyTime { action } => family_time(ctx, action.as_deref()),
        Command::Followup => {
            let overview = ctx.device.followup(ctx.now)?;
            for stored in ctx.device.circles()? {
                if let Some(warning) = crate::erasure::closing_warning(ctx, &stored.id)? {
                    warn_user!("{warning}");
                }
            }
            output(ctx, &overview, || {
                render::followup(&overview, i18n::language())
            })
        }
        Command::Week => {
            let circle = ctx.open_current()?;
            let view = circle.plan.view();
            let lang = language_or(ctx.lang_arg.as_deref(), &view)?;
            let week = my_week(&view, ctx.now, lang);
            output(ctx, &week, || render::week(&week))
        }
        Command::Calendar { mine, out } => {
            let circle = ctx.open_current()?;
            let view = circle.plan.view();
            let me = mine.then_some(&circle.me);
            let text = kring_plan::export::calendar::calendar(&view, me, ctx.now);
            write_file(&out, text.as_bytes())?;
            say!(
                "{}",
                t!(
                    "wrote-calendar",
                    file = out.display().to_string(),
                    zone = &view.circle.timezone
                )
            );
            Ok(())
        }
        Command::Reminders { set, days } => crate::reach::reminders(ctx, set, days),
        Command::News => crate::reach::news(ctx),
        Command::Merge { file } => {
            let bytes = read_file(&file)?;
            if kring_client::device::is_bundle(&bytes) {
                let report = ctx.device.merge_signed(&bytes, ctx.now)?;
                if let Some(circle) = &report.circle {
                    ctx.set_current(circle)?;
                }
                return output(ctx, &report, || {
                    t!(
                        "merged-signed",
                        changes = report.applied_changes,
                        refused = report.rejected
                    ) + "\n"
                });
            }
            let circle = ctx.current()?.id;
            let added = ctx.device.merge_bytes(&circle, &bytes)?;
            say!("{}", t!("merged", changes = added));
            Ok(())
        }
        Command::Demo {
            keep,
            relay,
            relay_db,
        } => crate::demo::run(keep, relay, relay_db),
        Command::Import { file, as_member } => {
            let bytes = read_file(&file)?;
            let view = CirclePlan::load(&bytes, ctx.device.actor())?.view();
            let me = context::member(&view, &as_member)?;
            let id = ctx.device.import_circle(&bytes, &me, ctx.now)?;
            ctx.set_current(&id)?;
            i18n::use_language(view.circle.language);
            say!(
                "{}",
                t!(
                    "imported",
                    circle = &view.circle.name,
                    name = view.display_name(&me)
                )
            );
            Ok(())
        }
        Command::Identity => network::identity(ctx),
        Command::Relay(cmd) => network::relay(ctx, cmd),
        Command::Push(cmd) => network::push(ctx, cmd),
        Command::Invite {
            manage: Some(cmd), ..
        } => network::manage_invites(ctx, cmd),
        Command::Invite {
            manage: None,
            capability,
            expires_in_days,
            qr,
            for_person,
        } => network::invite(ctx, &capability, expires_in_days, qr, for_person.as_deref()),
        Command::Device(cmd) => crate::devices::device(ctx, cmd),
        Command::Preview { link } => crate::devices::preview(ctx, &link),
        Command::Qr { text } => crate::devices::qr(&text),
        Command::Recovery(RecoveryCmd::Setup) => crate::recovery::setup(ctx),
        Command::Recover { relay, code } => crate::recovery::recover(ctx, &relay, &code),
        Command::Join {
            link,
            name,
            relation,
        } => network::join(ctx, &link, name.as_deref(), &relation),
        Command::Sync => network::sync(ctx),
        Command::Watch { seconds } => network::watch(ctx, seconds),
        Command::Status => network::status(ctx),
    }
}

/// The language the user asked for, else the circle's own.
fn language_or(typed: Option<&str>, view: &PlanView) -> CliResult<Language> {
    typed.map_or(Ok(view.circle.language), parse)
}

/// `kring export`: the automerge document to a file, or a readable plan (md/html) to a
/// file or standard output.
fn export(ctx: &Context, out: Option<PathBuf>, format: &str) -> CliResult {
    let circle = ctx.open_current()?;
    if format == "automerge" {
        let file = out.ok_or_else(|| CliError::Usage(t!("error-give-automerge-file")))?;
        write_file(&file, &circle.plan.export())?;
        say!(
            "{}",
            t!(
                "wrote-automerge",
                file = file.display().to_string(),
                changes = circle.plan.change_count()
            )
        );
        return Ok(());
    }
    let format: ExportFormat = parse(format)?;
    let view = circle.plan.view();
    let lang = language_or(ctx.lang_arg.as_deref(), &view)?;
    let text = export_plan(&view, ctx.now, format, lang);
    match out {
        Some(file) => {
            write_file(&file, text.as_bytes())?;
            say!("{}", t!("wrote", file = file.display().to_string()));
        }
        None => say_raw!("{text}"),
    }
    Ok(())
}

/// `kring export --format fhir|pdf --to …`: the plan handed over to professionals. The
/// file is made first, the hand-over then recorded in the plan (which refuses anyone
/// but the main person or an admin), and only then is the file put in place: a
/// refusal leaves no file, a file that cannot be written no record.
fn handover(
    ctx: &mut Context,
    out: Option<PathBuf>,
    format: HandoverFormat,
    to: Option<String>,
    names: bool,
) -> CliResult {
    let file = out.ok_or_else(|| CliError::Usage(t!("error-give-handover-file")))?;
    let to = to.ok_or_else(|| CliError::Usage(t!("error-give-handover-recipient")))?;
    let view = ctx.device.handover_view(&ctx.current()?.id)?;
    let lang = language_or(ctx.lang_arg.as_deref(), &view)?;
    let consent = kring_handover::Consent {
        recipient: to.trim().to_owned(),
        names,
    };
    let bytes = kring_handover::export(&view, &consent, format, ctx.now, lang)?;
    let partial = file.with_extension("partial");
    write_file(&partial, &bytes)?;
    let recorded = mutate(ctx, |c, now| {
        Ok(c.plan
            .record_handover(c.me, &consent.recipient, format, names, now)?)
    });
    if let Err(e) = recorded {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &file).map_err(|source| CliError::File {
        path: file.display().to_string(),
        source,
    })?;
    say!(
        "{}",
        t!(
            "plan-handed-over",
            to = consent.recipient,
            file = file.display().to_string()
        )
    );
    Ok(())
}

fn read_file(path: &Path) -> CliResult<Vec<u8>> {
    std::fs::read(path).map_err(|source| CliError::File {
        path: path.display().to_string(),
        source,
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> CliResult {
    std::fs::write(path, bytes).map_err(|source| CliError::File {
        path: path.display().to_string(),
        source,
    })
}

#[derive(Serialize)]
struct CircleRow {
    id: CircleId,
    name: String,
    me: String,
    current: bool,
    /// Closed on its relay: kept here to read only.
    archived: bool,
}

fn circle(ctx: &mut Context, cmd: CircleCmd) -> CliResult {
    match cmd {
        CircleCmd::Create {
            name,
            me,
            relay,
            timezone,
        } => {
            let language: Language = parse(ctx.lang_arg.as_deref().unwrap_or("nl"))?;
            let zone = match timezone {
                Some(zone) => kring_plan::plan::recurrence::parse_zone(&zone)?
                    .name()
                    .to_owned(),
                None => dates::device_zone()
                    .filter(|z| kring_plan::plan::recurrence::parse_zone(z).is_ok())
                    .unwrap_or_else(|| kring_plan::plan::recurrence::DEFAULT_ZONE.to_owned()),
            };
            let (id, code) = ctx.device.create_circle_with_recovery(
                &name,
                language,
                &me,
                relay.as_deref(),
                ctx.now,
            )?;
            if zone != kring_plan::plan::recurrence::DEFAULT_ZONE {
                ctx.device.change_plan(&id, ctx.now, |plan, me| {
                    plan.set_timezone(me, &zone, ctx.now)
                })?;
            }
            ctx.set_current(&id)?;
            say!(
                "{}",
                t!(
                    "circle-created",
                    circle = ctx.device.view(&id)?.circle.name,
                    id = id.to_string()
                )
            );
            crate::recovery::print_code(ctx, &id, &code)
        }
        CircleCmd::Close { yes } => crate::erasure::close(ctx, yes),
        CircleCmd::Delete { local: _, yes } => crate::erasure::delete_local(ctx, yes),
        CircleCmd::Timezone { zone } => {
            mutate(ctx, |c, now| Ok(c.plan.set_timezone(c.me, &zone, now)?))?;
            say!("{}", t!("circle-timezone-set", zone = &zone));
            Ok(())
        }
        CircleCmd::List => {
            let current = ctx.current().ok().map(|c| c.id);
            let mut rows = Vec::new();
            for stored in ctx.device.circles()? {
                let view = ctx.device.view(&stored.id)?;
                let archived = ctx
                    .device
                    .store()
                    .sync_record(&stored.id)?
                    .is_some_and(|r| r.closed_at.is_some());
                rows.push(CircleRow {
                    archived,
                    current: current.as_ref() == Some(&stored.id),
                    name: view.circle.name.clone(),
                    me: view.display_name(&stored.me),
                    id: stored.id,
                });
            }
            output(ctx, &rows, || {
                let lines: Vec<String> = rows
                    .iter()
                    .map(|r| {
                        let line = t!(
                            "circle-line",
                            mark = if r.current { "*" } else { " " },
                            id = r.id.short(),
                            circle = &r.name,
                            me = &r.me
                        );
                        match r.archived {
                            true => format!("{line} {}", t!("circle-archived")),
                            false => line,
                        }
                    })
                    .collect();
                if lines.is_empty() {
                    t!("no-circles") + "\n"
                } else {
                    lines.join("\n") + "\n"
                }
            })
        }
        CircleCmd::Use { circle } => {
            let circles = ctx.device.circles()?;
            let chosen = context::unique_prefix(
                circles.iter().map(|c| (c.id.as_str(), c)),
                &circle,
                "circle",
            )?;
            ctx.set_current(&chosen.id)?;
            say!("{}", t!("circle-used", id = chosen.id.to_string()));
            Ok(())
        }
    }
}

fn member(ctx: &mut Context, cmd: MemberCmd) -> CliResult {
    match cmd {
        MemberCmd::Add {
            name,
            relation,
            role,
        } => {
            let relation: Relation = parse(&relation)?;
            let id = mutate(ctx, |c, now| {
                Ok(c.plan.add_member(
                    c.me,
                    NewMember {
                        display_name: name.clone(),
                        relation,
                        role_label: role,
                    },
                    now,
                )?)
            })?;
            say!("{}", t!("member-added", name = &name, id = id.short()));
            warn_user!("{}", t!("member-added-invite", name = name.trim()));
            Ok(())
        }
        MemberCmd::List => {
            let circle = ctx.current()?.id;
            let people = ctx.device.people(&circle)?;
            let me = ctx.device.me(&circle)?;
            output(ctx, &people, || render::people(&people, &me))
        }
        MemberCmd::Remove { member } => {
            let (circle, id) = person(ctx, &member)?;
            // For someone in the membership log this goes through the relay (the key
            // rotates, so they cannot read what is written afterwards).
            ctx.device.remove_member(&circle, &id, ctx.now)?;
            say!("{}", t!("removed"));
            Ok(())
        }
        MemberCmd::Role { member, role } => {
            let capability = Capability::parse(&role)?;
            let (circle, id) = person(ctx, &member)?;
            ctx.device
                .set_capability(&circle, &id, capability, ctx.now)?;
            say!(
                "{}",
                t!(
                    "member-role-set",
                    name = &member,
                    role = word("capability", capability.as_str())
                )
            );
            Ok(())
        }
        MemberCmd::Mark { member, mark } => {
            let designation = match mark.as_str() {
                "none" => None,
                other => Some(parse::<Designation>(other)?),
            };
            let (circle, id) = person(ctx, &member)?;
            mutate(ctx, |c, now| {
                Ok(c.plan.designate(c.me, &id, designation, now)?)
            })?;
            mark_in_log(
                ctx,
                &circle,
                &id,
                designation == Some(Designation::Professional),
            )?;
            say!("{}", t!("saved"));
            Ok(())
        }
    }
}

/// The current circle and the member `name` (a name or id prefix) names: someone in
/// the plan, or a reader, whom only the membership log knows (readers do not write).
/// `kring family-time [open|close|rotate|present]`: the change goes into the
/// membership log (online); then, or without an action, what this device knows of
/// family time.
fn family_time(ctx: &mut Context, action: Option<&str>) -> CliResult {
    let circle = ctx.current()?.id;
    let change = match action {
        Some("open") => Some(FamilyTimeChange::Open),
        Some("close") => Some(FamilyTimeChange::Close),
        Some("rotate") => Some(FamilyTimeChange::RotateKey),
        Some("present") => Some(FamilyTimeChange::Present),
        _ => None,
    };
    if let Some(change) = change {
        ctx.device.change_family_time(&circle, change, ctx.now)?;
    }
    let status = ctx
        .device
        .family_time(&circle)?
        .ok_or_else(|| CliError::Core(CoreError::LocalOnly(circle.to_string())))?;
    output(ctx, &status, || {
        let state = if !status.open {
            t!("family-time-closed")
        } else if status.holds_key {
            t!("family-time-open-with-key", written = status.written)
        } else if status.professional {
            t!("family-time-open-professional")
        } else if !status.key_current {
            t!("family-time-open-key-out-of-date")
        } else {
            t!("family-time-open-without-key")
        };
        match status.presented_at {
            Some(at) => format!(
                "{state}\n{}",
                t!("family-time-presented", at = dates::format(at))
            ),
            None => state,
        }
    })
}

/// The line above the plan about family time: that the reader sees the family's
/// draft, or when the plan was presented.
fn family_time_line(status: &FamilyTime) -> Option<String> {
    if status.open && status.holds_key {
        Some(t!("family-time-draft-shown"))
    } else if status.open {
        None
    } else {
        status
            .presented_at
            .map(|at| t!("family-time-presented", at = dates::format(at)))
    }
}

/// Marks `member` professional in the membership log too, where the log knows them
/// (a person added by name only has no entry there): the family key follows the log.
fn mark_in_log(
    ctx: &mut Context,
    circle: &CircleId,
    member: &MemberId,
    professional: bool,
) -> CliResult {
    let Some(trust) = ctx.device.trust(circle)? else {
        return Ok(());
    };
    let state = trust.state();
    let in_log = state.member(member).is_some_and(|m| !m.is_removed());
    if in_log && state.is_professional(member) != professional {
        let change = FamilyTimeChange::Mark {
            member: member.clone(),
            professional,
        };
        ctx.device.change_family_time(circle, change, ctx.now)?;
    }
    Ok(())
}

fn person(ctx: &Context, name: &str) -> CliResult<(CircleId, MemberId)> {
    let open = ctx.open_current()?;
    let circle = open.plan.circle_id().clone();
    match context::member(&open.plan.view(), name) {
        Ok(id) => Ok((circle, id)),
        // Not in the plan: a reader, by the name they introduced themselves with in
        // the log, or by id.
        Err(CliError::NotFound(_)) => match ctx.device.trust(&circle)? {
            Some(trust) => {
                let state = trust.state();
                let named: Vec<&MemberId> = state
                    .members()
                    .map(|(id, _)| id)
                    .filter(|id| {
                        trust
                            .keys()
                            .member_name(state, id)
                            .is_some_and(|n| n.eq_ignore_ascii_case(name.trim()))
                    })
                    .collect();
                let id = match named.as_slice() {
                    [one] => (*one).clone(),
                    [] => context::unique_prefix(
                        state.members().map(|(id, _)| (id.as_str(), id)),
                        name,
                        "member",
                    )?
                    .clone(),
                    _ => {
                        return Err(CliError::Usage(t!(
                            "error-several-members",
                            name = name.trim()
                        )))
                    }
                };
                Ok((circle, id))
            }
            None => Err(CliError::NotFound(t!("error-no-member", name = name))),
        },
        Err(e) => Err(e),
    }
}

fn schedule(args: &ScheduleArgs) -> CliResult<Schedule> {
    let zone = dates::zone();
    let civil = |day: &str, at: Option<&str>| -> CliResult<String> {
        let start = match at {
            Some(t) => dates::parse_stored_civil(&format!("{day} {t}"))?,
            None => dates::parse_stored_civil(day)?,
        };
        Ok(start.to_string())
    };
    let until = |rule: &mut String| -> CliResult<()> {
        if let Some(until) = &args.until {
            // The end of that day, in UTC as RFC 5545 wants with a zoned start.
            let day = match dates::parse_civil(until)? {
                CivilStart::Date(d) => d,
                CivilStart::DateTime(dt) => dt.date(),
            };
            let next = day
                .succ_opt()
                .map(CivilStart::Date)
                .ok_or_else(|| CliError::Usage(t!("error-end-date", date = until)))?;
            let end = next.instant(zone)?.plus_millis(-1000);
            let utc = chrono::DateTime::from_timestamp_millis(end.0)
                .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
                .unwrap_or_default();
            rule.push_str(&format!(";UNTIL={utc}"));
        }
        Ok(())
    };
    let repeat = |start: String, rule: Option<String>| {
        Schedule::Repeat(Recurrence {
            start,
            rule,
            skipped: Vec::new(),
            moved: Vec::new(),
            zone: zone.to_owned(),
        })
    };
    if let Some(due) = &args.due {
        return Ok(Schedule::Due {
            at: dates::parse_stored(due)?,
        });
    }
    if let Some(first) = &args.weekly_from {
        let mut rule = format!("FREQ=WEEKLY;INTERVAL={}", args.every_weeks);
        until(&mut rule)?;
        return Ok(repeat(
            dates::parse_stored_civil(first)?.to_string(),
            Some(rule),
        ));
    }
    if let Some(freq) = &args.repeat {
        let mut rule = format!("FREQ={};INTERVAL={}", freq.to_uppercase(), args.every);
        let mut from = args.from.clone().unwrap_or_else(|| "today".into());
        if let Some(on) = &args.on {
            let (days, month_days) = by_days(on)?;
            if !days.is_empty() {
                rule.push_str(&format!(";BYDAY={}", days.join(",")));
                // The series starts on its first matching day (RFC 5545 wants the
                // start in step with the rule).
                if freq == "weekly" {
                    from = first_matching_day(&from, &days)?;
                }
            }
            if !month_days.is_empty() {
                rule.push_str(&format!(";BYMONTHDAY={}", month_days.join(",")));
            }
        }
        if let Some(n) = args.count {
            rule.push_str(&format!(";COUNT={n}"));
        }
        until(&mut rule)?;
        return Ok(repeat(civil(&from, args.at.as_deref())?, Some(rule)));
    }
    if let Some(day) = &args.date {
        return Ok(repeat(civil(day, args.at.as_deref())?, None));
    }
    Ok(Schedule::Unscheduled)
}

/// `wed,fri` → BYDAY `WE,FR`; `1mon`, `-1fri` → `1MO`, `-1FR`; `15` → BYMONTHDAY.
fn by_days(on: &str) -> CliResult<(Vec<String>, Vec<String>)> {
    let mut days = Vec::new();
    let mut month_days = Vec::new();
    for part in on.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part.parse::<i32>().is_ok() {
            month_days.push(part.to_owned());
            continue;
        }
        let split = part.find(|c: char| c.is_alphabetic()).unwrap_or(part.len());
        let (nth, name) = part.split_at(split);
        let day =
            dates::weekday(name).ok_or_else(|| CliError::Usage(t!("error-weekday", day = part)))?;
        let code = &day.to_string()[..2].to_uppercase();
        days.push(format!("{nth}{code}"));
    }
    Ok((days, month_days))
}

/// The first day on or after `from` whose weekday is among `days` (BYDAY codes).
fn first_matching_day(from: &str, days: &[String]) -> CliResult<String> {
    let start = match dates::parse_civil(from)? {
        CivilStart::Date(d) => d,
        CivilStart::DateTime(dt) => dt.date(),
    };
    let mut day = start;
    for _ in 0..7 {
        let code = day.format("%a").to_string()[..2].to_uppercase();
        if days.iter().any(|d| d.ends_with(&code)) {
            return Ok(day.format("%Y-%m-%d").to_string());
        }
        day = day.succ_opt().unwrap_or(day);
    }
    Ok(start.format("%Y-%m-%d").to_string())
}

/// `kring task skip` / `kring task move`.
fn change_occurrence(ctx: &mut Context, task: &str, on: &str, to: Option<&str>) -> CliResult {
    let to = to
        .map(dates::parse_stored_civil)
        .transpose()?
        .map(|c| c.to_string());
    let (view, at) = mutate(ctx, |c, now| {
        let id = context::task(&c.plan.view(), task)?;
        let view = c.plan.task(&id)?;
        let at = occurrence_on(&view, on)?;
        c.plan
            .change_occurrence(c.me, &id, at, to.as_deref(), now)?;
        Ok((view, at))
    })?;
    let date = dates::format_occurrence(&view, at);
    match &to {
        Some(to) => say!(
            "{}",
            t!("turn-moved", date = date, to = to.replace('T', " "))
        ),
        None => say!("{}", t!("turn-skipped", date = date)),
    }
    Ok(())
}

/// How many dates `kring task occurrences` lists without `--to`.
const DEFAULT_OCCURRENCES: usize = 12;

/// One occurrence of a task, for `kring task occurrences`.
#[derive(Debug, Serialize)]
pub struct OccurrenceRow {
    /// `YYYY-MM-DD HH:MM` in the circle's time zone.
    pub when: String,
    pub at: Timestamp,
    pub people: Vec<String>,
    pub free: u32,
    pub handed_over: bool,
}

fn occurrence_rows(
    view: &PlanView,
    task: &TaskView,
    from: Timestamp,
    to: Timestamp,
) -> Vec<OccurrenceRow> {
    task.turns_between(from, to)
        .into_iter()
        .map(|turn| OccurrenceRow {
            when: dates::format_occurrence(task, turn.at),
            at: turn.at,
            free: turn.free,
            people: turn.people.iter().map(|m| view.display_name(m)).collect(),
            handed_over: turn.handed_over,
        })
        .collect()
}

/// The occurrence of `task` a user means by `day`: that exact time, or the first
/// occurrence on that day.
fn occurrence_on(task: &TaskView, day: &str) -> CliResult<Timestamp> {
    let zone = dates::zone();
    let (from, to) = match dates::parse_civil(day)? {
        CivilStart::DateTime(dt) => {
            let at = CivilStart::DateTime(dt).instant(zone)?;
            (at, at.plus_millis(1))
        }
        CivilStart::Date(d) => (
            CivilStart::Date(d).instant(zone)?,
            CivilStart::Date(d.succ_opt().unwrap_or(d)).instant(zone)?,
        ),
    };
    task.schedule
        .occurrences_between(from, to)
        .first()
        .copied()
        .ok_or_else(|| CliError::NotFound(t!("error-no-turn", task = &task.title, day = day)))
}

fn task(ctx: &mut Context, cmd: TaskCmd) -> CliResult {
    match cmd {
        TaskCmd::Add {
            title,
            notes,
            category,
            owner,
            slots,
            checker,
            schedule: s,
        } => {
            let new = NewTask {
                title,
                notes,
                category: parse::<TaskCategory>(&category)?,
                owner_kind: parse::<OwnerKind>(&owner)?,
                schedule: schedule(&s)?,
                slots,
                checker: None,
            };
            let id = mutate(ctx, |c, now| {
                let checker = checker
                    .as_deref()
                    .map(|m| context::member(&c.plan.view(), m))
                    .transpose()?;
                Ok(c.plan.add_task(c.me, NewTask { checker, ..new }, now)?)
            })?;
            say!("{}", t!("task-added", id = id.short()));
            Ok(())
        }
        TaskCmd::List => {
            let circle = ctx.open_current()?;
            let view = circle.plan.view();
            output(ctx, &view.tasks, || render::tasks(&view) + "\n")
        }
        TaskCmd::Claim { task, on, from } => {
            let (title, when) = mutate(ctx, |c, now| {
                let id = context::task(&c.plan.view(), &task)?;
                let view = c.plan.task(&id)?;
                let when = match (&on, &from) {
                    (Some(day), _) => {
                        let at = occurrence_on(&view, day)?;
                        c.plan.claim_turn(c.me, &id, at, now)?;
                        t!("claimed-on", date = dates::format_occurrence(&view, at))
                    }
                    (None, Some(day)) => {
                        let at = occurrence_on(&view, day)?;
                        c.plan.claim_from(c.me, &id, at, now)?;
                        t!("claimed-from", date = dates::format_occurrence(&view, at))
                    }
                    (None, None) => {
                        c.plan.claim_task(c.me, &id, now)?;
                        t!("claimed-all")
                    }
                };
                Ok((view.title, when))
            })?;
            say!("{}", t!("claimed", task = &title, when = when));
            Ok(())
        }
        TaskCmd::Handover { task, on } => {
            let (view, at) = mutate(ctx, |c, now| {
                let id = context::task(&c.plan.view(), &task)?;
                let view = c.plan.task(&id)?;
                let at = occurrence_on(&view, &on)?;
                c.plan.hand_over(c.me, &id, at, now)?;
                Ok((view, at))
            })?;
            say!(
                "{}",
                t!("handed-over", date = dates::format_occurrence(&view, at))
            );
            Ok(())
        }
        TaskCmd::Skip { task, on } => change_occurrence(ctx, &task, &on, None),
        TaskCmd::Move { task, on, to } => change_occurrence(ctx, &task, &on, Some(&to)),
        TaskCmd::Occurrences { task, from, to } => {
            let circle = ctx.open_current()?;
            let view = circle.plan.view();
            let id = context::task(&view, &task)?;
            let task = view
                .task(&id)
                .cloned()
                .ok_or_else(|| CliError::NotFound(task.clone()))?;
            let from = from
                .as_deref()
                .map(dates::parse)
                .transpose()?
                .unwrap_or(ctx.now);
            // Without --to: the next dates, however far ahead the series starts.
            let (to, limit) = match to.as_deref().map(dates::parse).transpose()? {
                Some(to) => (to, usize::MAX),
                None => (from.plus_days(2 * 366), DEFAULT_OCCURRENCES),
            };
            let mut rows = occurrence_rows(&view, &task, from, to);
            rows.truncate(limit);
            output(ctx, &rows, || render::occurrences(&rows))
        }
        TaskCmd::Unclaim { task } => {
            mutate(ctx, |c, now| {
                let id = context::task(&c.plan.view(), &task)?;
                Ok(c.plan.unclaim_task(c.me, &id, now)?)
            })?;
            say!("{}", t!("unclaimed"));
            Ok(())
        }
        TaskCmd::Done {
            task,
            note,
            occurrence,
        } => {
            let occurrence = occurrence.as_deref().map(dates::parse).transpose()?;
            mutate(ctx, |c, now| {
                let id = context::task(&c.plan.view(), &task)?;
                Ok(c.plan.complete_task(c.me, &id, occurrence, &note, now)?)
            })?;
            say!("{}", t!("done"));
            Ok(())
        }
        TaskCmd::Cancel { task } => {
            mutate(ctx, |c, now| {
                let id = context::task(&c.plan.view(), &task)?;
                Ok(c.plan.cancel_task(c.me, &id, now)?)
            })?;
            say!("{}", t!("task-cancelled"));
            Ok(())
        }
        TaskCmd::Reopen { task } => {
            mutate(ctx, |c, now| {
                let id = context::task(&c.plan.view(), &task)?;
                Ok(c.plan.reopen_task(c.me, &id, now)?)
            })?;
            say!("{}", t!("task-reopened"));
            Ok(())
        }
        TaskCmd::Edit {
            task,
            title,
            notes,
            category,
            slots,
            checker,
            no_checker,
            schedule: s,
            no_date,
        } => {
            let category = category.as_deref().map(parse::<TaskCategory>).transpose()?;
            let dated = s.due.is_some()
                || s.weekly_from.is_some()
                || s.date.is_some()
                || s.repeat.is_some();
            let schedule = match (no_date, dated) {
                (true, _) => Some(Schedule::Unscheduled),
                (false, true) => Some(schedule(&s)?),
                (false, false) => None,
            };
            mutate(ctx, |c, now| {
                let view = c.plan.view();
                let id = context::task(&view, &task)?;
                let checker = match (&checker, no_checker) {
                    (Some(name), _) => Some(Some(context::member(&view, name)?)),
                    (None, true) => Some(None),
                    (None, false) => None,
                };
                let update = TaskUpdate {
                    title,
                    notes,
                    category,
                    schedule,
                    slots,
                    checker,
                };
                Ok(c.plan.update_task(c.me, &id, update, now)?)
            })?;
            say!("{}", t!("saved"));
            Ok(())
        }
    }
}

fn plan(ctx: &mut Context, cmd: PlanCmd) -> CliResult {
    let add = |ctx: &mut Context, list: PlanList, text: String| -> CliResult {
        mutate(ctx, |c, now| {
            Ok(c.plan.add_to_list(c.me, list, &text, now)?)
        })?;
        say!("{}", t!("added"));
        Ok(())
    };
    match cmd {
        PlanCmd::Question { text } => {
            mutate(ctx, |c, now| Ok(c.plan.set_question(c.me, &text, now)?))?;
            say!("{}", t!("question-set"));
            Ok(())
        }
        PlanCmd::Concern { text } => add(ctx, PlanList::Concerns, text),
        PlanCmd::Goal { text } => add(ctx, PlanList::Goals, text),
        PlanCmd::Contingency { text } => add(ctx, PlanList::Contingencies, text),
        PlanCmd::Status { status } => {
            let to: PlanStatus = parse(&status)?;
            mutate(ctx, |c, now| Ok(c.plan.set_plan_status(c.me, to, now)?))?;
            say!(
                "{}",
                t!(
                    "plan-status-set",
                    status = word("plan-status", &to.to_string())
                )
            );
            Ok(())
        }
        PlanCmd::Approve => {
            mutate(ctx, |c, now| Ok(c.plan.approve_plan(c.me, now)?))?;
            say!("{}", t!("plan-approved"));
            Ok(())
        }
        PlanCmd::ReviewDate { date } => {
            let at = match date.trim() {
                "none" => None,
                date => Some(dates::parse_stored(date)?),
            };
            mutate(ctx, |c, now| Ok(c.plan.set_next_review(c.me, at, now)?))?;
            match at {
                Some(at) => say!("{}", t!("review-date-set", date = dates::format_moment(at))),
                None => say!("{}", t!("review-date-none")),
            }
            Ok(())
        }
        PlanCmd::Remove { list, id } => {
            let list = match list.as_str() {
                "concern" => PlanList::Concerns,
                "goal" => PlanList::Goals,
                _ => PlanList::Contingencies,
            };
            mutate(ctx, |c, now| {
                let view = c.plan.view();
                let items = match list {
                    PlanList::Concerns => &view.plan.concerns,
                    PlanList::Goals => &view.plan.goals,
                    PlanList::Contingencies => &view.plan.contingencies,
                };
                let entry = context::entry(items.iter().map(|i| &i.id), &id, "line")?;
                Ok(c.plan.remove_from_list(c.me, list, &entry, now)?)
            })?;
            say!("{}", t!("removed"));
            Ok(())
        }
        PlanCmd::Review { summary, next } => {
            let next = next.as_deref().map(dates::parse).transpose()?;
            mutate(ctx, |c, now| {
                Ok(c.plan.record_review(c.me, &summary, next, now)?)
            })?;
            say!("{}", t!("review-recorded"));
            Ok(())
        }
    }
}

fn condition(ctx: &mut Context, cmd: ConditionCmd) -> CliResult {
    match cmd {
        ConditionCmd::Add { text } => {
            let id = mutate(ctx, |c, now| Ok(c.plan.set_condition(c.me, &text, now)?))?;
            say!("{}", t!("condition-set", id = id.short()));
        }
        ConditionCmd::Accept { condition } => {
            mutate(ctx, |c, now| {
                let view = c.plan.view();
                let id = context::entry(
                    view.conditions.iter().map(|x| &x.id),
                    &condition,
                    "condition",
                )?;
                Ok(c.plan.accept_condition(c.me, &id, now)?)
            })?;
            say!("{}", t!("condition-accepted-now"));
        }
    }
    Ok(())
}

fn offer(ctx: &mut Context, cmd: OfferCmd) -> CliResult {
    match cmd {
        OfferCmd::Add { text, when } => {
            let id = mutate(ctx, |c, now| {
                Ok(c.plan.add_offer(c.me, &text, &when, now)?)
            })?;
            say!("{}", t!("offer-posted", id = id.short()));
        }
        OfferCmd::Withdraw { offer } => {
            mutate(ctx, |c, now| {
                let view = c.plan.view();
                let id = context::entry(view.offers.iter().map(|x| &x.id), &offer, "offer")?;
                Ok(c.plan.withdraw_offer(c.me, &id, now)?)
            })?;
            say!("{}", t!("offer-withdrawn"));
        }
    }
    Ok(())
}

fn meeting(ctx: &mut Context, cmd: MeetingCmd) -> CliResult {
    match cmd {
        MeetingCmd::Add { at, place, agenda } => {
            let at = dates::parse_stored(&at)?;
            let id = mutate(ctx, |c, now| {
                Ok(c.plan.schedule_meeting(c.me, at, &place, &agenda, now)?)
            })?;
            say!(
                "{}",
                t!(
                    "meeting-planned",
                    id = id.short(),
                    date = dates::format_moment(at)
                )
            );
        }
        MeetingCmd::Edit {
            meeting,
            at,
            place,
            agenda,
        } => {
            let at = at.as_deref().map(dates::parse_stored).transpose()?;
            mutate(ctx, |c, now| {
                let view = c.plan.view();
                let id = context::entry(view.meetings.iter().map(|x| &x.id), &meeting, "meeting")?;
                let update = MeetingUpdate { at, place, agenda };
                Ok(c.plan.update_meeting(c.me, &id, update, now)?)
            })?;
            say!("{}", t!("saved"));
        }
        MeetingCmd::Cancel { meeting } => {
            mutate(ctx, |c, now| {
                let view = c.plan.view();
                let id = context::entry(view.meetings.iter().map(|x| &x.id), &meeting, "meeting")?;
                Ok(c.plan.cancel_meeting(c.me, &id, now)?)
            })?;
            say!("{}", t!("meeting-cancelled"));
        }
        MeetingCmd::Rsvp { meeting, answer } => {
            let answer: Rsvp = parse(&answer)?;
            mutate(ctx, |c, now| {
                let view = c.plan.view();
                let id = context::entry(view.meetings.iter().map(|x| &x.id), &meeting, "meeting")?;
                Ok(c.plan.rsvp(c.me, &id, answer, now)?)
            })?;
            say!(
                "{}",
                t!("rsvp-noted", answer = word("rsvp", &answer.to_string()))
            );
        }
    }
    Ok(())
}
