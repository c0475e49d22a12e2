//! One function per command group. Each: open what it needs, call one `kring-core`
//! operation, save durably, print. No plan rules live here.

use std::path::{Path, PathBuf};

use kring_core::export::{export_plan, ExportFormat};
use kring_core::followup::my_week;
use kring_core::membership::Capability;
use kring_core::plan::{
    CircleId, CirclePlan, Designation, Language, LogKind, MeetingUpdate, MemberId, NewMember,
    NewTask, OwnerKind, PlanList, PlanStatus, PlanView, Relation, Rsvp, Schedule, TaskCategory,
    TaskUpdate,
};
use serde::Serialize;

use crate::args::*;
use crate::context::{self, Context, Editing};
use crate::dates;
use crate::error::{CliError, CliResult};
use crate::network;
use crate::render;

/// Prints `value` as JSON with `--json`, else the human text.
pub fn output<T: Serialize>(ctx: &Context, value: &T, human: impl FnOnce() -> String) -> CliResult {
    if ctx.json {
        // JSON is for machines: serde escapes control characters, the text stays exact.
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        say_raw!("{}", human());
    }
    Ok(())
}

pub fn parse<T: std::str::FromStr<Err = kring_core::Error>>(s: &str) -> CliResult<T> {
    Ok(s.parse::<T>()?)
}

/// Runs `op` on the current circle as "me"; when it returns, the change is durable
/// and sealed into the outbox for the next sync (see `Device::change`).
fn mutate<T>(
    ctx: &mut Context,
    op: impl FnOnce(&mut Editing<'_>, kring_core::Timestamp) -> CliResult<T>,
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
            output(ctx, &view, || render::plan(&view, &circle.me))
        }
        Command::Whoami => {
            let circle = ctx.current()?;
            let people = ctx.device.people(&circle.id)?;
            let me = people.into_iter().find(|p| p.id == circle.me);
            let circle_name = ctx.device.view(&circle.id)?.circle.name;
            output(ctx, &me, || match &me {
                Some(p) if !p.removed => {
                    let role = p.capability.map(|c| format!(", {c}")).unwrap_or_default();
                    match (&p.name, p.relation) {
                        (Some(name), Some(relation)) => {
                            format!("You are {name} ({relation}{role}) in {circle_name}\n")
                        }
                        _ => format!("You read {circle_name} as a reader ({})\n", p.id.short()),
                    }
                }
                Some(_) => format!("You were removed from {circle_name}\n"),
                None => format!(
                    "You ({}) are not a member of {circle_name}\n",
                    circle.me.short()
                ),
            })
        }
        Command::Member(cmd) => member(ctx, cmd),
        Command::Task(cmd) => task(ctx, cmd),
        Command::Plan(cmd) => plan(ctx, cmd),
        Command::Condition(cmd) => condition(ctx, cmd),
        Command::Offer(cmd) => offer(ctx, cmd),
        Command::Post { text, kind } => {
            let kind: LogKind = parse(&kind)?;
            mutate(ctx, |c, now| Ok(c.plan.post(c.me, kind, &text, now)?))?;
            say!("Posted.");
            Ok(())
        }
        Command::Meeting(cmd) => meeting(ctx, cmd),
        Command::Export {
            file,
            out,
            signed: true,
            ..
        } => {
            let file = file.or(out).ok_or_else(|| {
                CliError::Usage("give a file to write the signed bundle to".into())
            })?;
            let circle = ctx.current()?.id;
            write_file(&file, &ctx.device.export_signed(&circle)?)?;
            say!("Wrote {} (signed).", file.display());
            Ok(())
        }
        Command::Export {
            file,
            format,
            lang,
            out,
            signed: false,
        } => export(ctx, file.or(out), &format, lang.as_deref()),
        Command::Followup { lang } => {
            let lang: Language = parse(&lang)?;
            let overview = ctx.device.followup(ctx.now)?;
            output(ctx, &overview, || render::followup(&overview, lang))
        }
        Command::Week { lang } => {
            let circle = ctx.open_current()?;
            let view = circle.plan.view();
            let lang = language_or(lang.as_deref(), &view)?;
            let week = my_week(&view, ctx.now, lang);
            output(ctx, &week, || render::week(&week))
        }
        Command::Merge { file } => {
            let bytes = read_file(&file)?;
            if kring_core::device::is_bundle(&bytes) {
                let report = ctx.device.merge_signed(&bytes, ctx.now)?;
                if let Some(circle) = &report.circle {
                    ctx.set_current(circle)?;
                }
                return output(ctx, &report, || {
                    format!(
                        "Merged {} new change(s) from a signed bundle; {} refused.\n",
                        report.applied_changes, report.rejected
                    )
                });
            }
            let circle = ctx.current()?.id;
            let added = ctx.device.merge_bytes(&circle, &bytes)?;
            say!("Merged {added} new change(s).");
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
            say!("Added {} as {}.", view.circle.name, view.display_name(&me));
            Ok(())
        }
        Command::Identity => network::identity(ctx),
        Command::Relay(cmd) => network::relay(ctx, cmd),
        Command::Invite {
            capability,
            expires_in_days,
            qr,
        } => network::invite(ctx, &capability, expires_in_days, qr),
        Command::Device(cmd) => crate::devices::device(ctx, cmd),
        Command::Preview { link } => crate::devices::preview(ctx, &link),
        Command::Qr { text } => crate::devices::qr(&text),
        Command::Recovery(RecoveryCmd::Setup) => crate::recovery::setup(ctx),
        Command::Recover { relay, code } => crate::recovery::recover(ctx, &relay, &code),
        Command::Join {
            link,
            name,
            relation,
        } => network::join(ctx, &link, &name, &relation),
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
fn export(ctx: &Context, out: Option<PathBuf>, format: &str, lang: Option<&str>) -> CliResult {
    let circle = ctx.open_current()?;
    if format == "automerge" {
        let file = out.ok_or_else(|| {
            CliError::Usage("give a file to write the automerge document to".into())
        })?;
        write_file(&file, &circle.plan.export())?;
        say!(
            "Wrote {} ({} changes).",
            file.display(),
            circle.plan.change_count()
        );
        return Ok(());
    }
    let format: ExportFormat = parse(format)?;
    let view = circle.plan.view();
    let text = export_plan(&view, ctx.now, format, language_or(lang, &view)?);
    match out {
        Some(file) => {
            write_file(&file, text.as_bytes())?;
            say!("Wrote {}.", file.display());
        }
        None => say_raw!("{text}"),
    }
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
}

fn circle(ctx: &mut Context, cmd: CircleCmd) -> CliResult {
    match cmd {
        CircleCmd::Create {
            name,
            me,
            lang,
            relay,
        } => {
            let language: Language = parse(&lang)?;
            let (id, code) = ctx.device.create_circle_with_recovery(
                &name,
                language,
                &me,
                relay.as_deref(),
                ctx.now,
            )?;
            ctx.set_current(&id)?;
            say!(
                "Created circle {} ({id}).",
                ctx.device.view(&id)?.circle.name
            );
            crate::recovery::print_code(ctx, &id, &code)
        }
        CircleCmd::List => {
            let current = ctx.current().ok().map(|c| c.id);
            let mut rows = Vec::new();
            for stored in ctx.device.circles()? {
                let view = ctx.device.view(&stored.id)?;
                rows.push(CircleRow {
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
                        format!(
                            "{} {}  {} (you: {})",
                            if r.current { "*" } else { " " },
                            r.id.short(),
                            r.name,
                            r.me
                        )
                    })
                    .collect();
                if lines.is_empty() {
                    "No circles yet.\n".into()
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
            say!("Now using {}.", chosen.id);
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
            say!("Added {name} ({}).", id.short());
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
            say!("Removed.");
            Ok(())
        }
        MemberCmd::Role { member, role } => {
            let capability = Capability::parse(&role)?;
            let (circle, id) = person(ctx, &member)?;
            ctx.device
                .set_capability(&circle, &id, capability, ctx.now)?;
            say!("{member} is now {role}.");
            Ok(())
        }
        MemberCmd::Mark { member, mark } => {
            let designation = match mark.as_str() {
                "none" => None,
                other => Some(parse::<Designation>(other)?),
            };
            let (_, id) = person(ctx, &member)?;
            mutate(ctx, |c, now| {
                Ok(c.plan.designate(c.me, &id, designation, now)?)
            })?;
            say!("Saved.");
            Ok(())
        }
    }
}

/// The current circle and the member `name` (a name or id prefix) names: someone in
/// the plan, or a reader, whom only the membership log knows (readers do not write).
fn person(ctx: &Context, name: &str) -> CliResult<(CircleId, MemberId)> {
    let open = ctx.open_current()?;
    let circle = open.plan.circle_id().clone();
    match context::member(&open.plan.view(), name) {
        Ok(id) => Ok((circle, id)),
        Err(CliError::NotFound(_)) => match ctx.device.trust(&circle)? {
            Some(trust) => {
                let id = context::unique_prefix(
                    trust.state().members().map(|(id, _)| (id.as_str(), id)),
                    name,
                    "member",
                )?
                .clone();
                Ok((circle, id))
            }
            None => Err(CliError::NotFound(format!("no member {name:?}"))),
        },
        Err(e) => Err(e),
    }
}

fn schedule(args: &ScheduleArgs) -> CliResult<Schedule> {
    Ok(match (&args.due, &args.weekly_from) {
        (Some(due), _) => Schedule::Due {
            at: dates::parse(due)?,
        },
        (None, Some(first)) => Schedule::Weekly {
            first_at: dates::parse(first)?,
            every_weeks: args.every_weeks,
            until: args.until.as_deref().map(dates::parse).transpose()?,
        },
        (None, None) => Schedule::Unscheduled,
    })
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
            say!("Added task {}.", id.short());
            Ok(())
        }
        TaskCmd::List => {
            let circle = ctx.open_current()?;
            let view = circle.plan.view();
            output(ctx, &view.tasks, || render::tasks(&view) + "\n")
        }
        TaskCmd::Claim { task } => {
            let title = mutate(ctx, |c, now| {
                let id = context::task(&c.plan.view(), &task)?;
                c.plan.claim_task(c.me, &id, now)?;
                Ok(c.plan.task(&id)?.title)
            })?;
            say!("You claimed “{title}”.");
            Ok(())
        }
        TaskCmd::Unclaim { task } => {
            mutate(ctx, |c, now| {
                let id = context::task(&c.plan.view(), &task)?;
                Ok(c.plan.unclaim_task(c.me, &id, now)?)
            })?;
            say!("Your place is free again.");
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
            say!("Marked done. Thank you!");
            Ok(())
        }
        TaskCmd::Cancel { task } => {
            mutate(ctx, |c, now| {
                let id = context::task(&c.plan.view(), &task)?;
                Ok(c.plan.cancel_task(c.me, &id, now)?)
            })?;
            say!("Cancelled.");
            Ok(())
        }
        TaskCmd::Reopen { task } => {
            mutate(ctx, |c, now| {
                let id = context::task(&c.plan.view(), &task)?;
                Ok(c.plan.reopen_task(c.me, &id, now)?)
            })?;
            say!("Open again.");
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
            let schedule = match (no_date, s.due.is_some() || s.weekly_from.is_some()) {
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
            say!("Saved.");
            Ok(())
        }
    }
}

fn plan(ctx: &mut Context, cmd: PlanCmd) -> CliResult {
    let add = |ctx: &mut Context, list: PlanList, text: String| -> CliResult {
        mutate(ctx, |c, now| {
            Ok(c.plan.add_to_list(c.me, list, &text, now)?)
        })?;
        say!("Added.");
        Ok(())
    };
    match cmd {
        PlanCmd::Question { text } => {
            mutate(ctx, |c, now| Ok(c.plan.set_question(c.me, &text, now)?))?;
            say!("Question set.");
            Ok(())
        }
        PlanCmd::Concern { text } => add(ctx, PlanList::Concerns, text),
        PlanCmd::Goal { text } => add(ctx, PlanList::Goals, text),
        PlanCmd::Contingency { text } => add(ctx, PlanList::Contingencies, text),
        PlanCmd::Status { status } => {
            let to: PlanStatus = parse(&status)?;
            mutate(ctx, |c, now| Ok(c.plan.set_plan_status(c.me, to, now)?))?;
            say!("The plan is now {to}.");
            Ok(())
        }
        PlanCmd::Approve => {
            mutate(ctx, |c, now| Ok(c.plan.approve_plan(c.me, now)?))?;
            say!("You approved the plan.");
            Ok(())
        }
        PlanCmd::ReviewDate { date } => {
            let at = match date.trim() {
                "none" => None,
                date => Some(dates::parse(date)?),
            };
            mutate(ctx, |c, now| Ok(c.plan.set_next_review(c.me, at, now)?))?;
            match at {
                Some(at) => say!("Next evaluation: {}.", dates::format(at)),
                None => say!("No evaluation date planned."),
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
            say!("Removed.");
            Ok(())
        }
        PlanCmd::Review { summary, next } => {
            let next = next.as_deref().map(dates::parse).transpose()?;
            mutate(ctx, |c, now| {
                Ok(c.plan.record_review(c.me, &summary, next, now)?)
            })?;
            say!("Evaluation recorded.");
            Ok(())
        }
    }
}

fn condition(ctx: &mut Context, cmd: ConditionCmd) -> CliResult {
    match cmd {
        ConditionCmd::Add { text } => {
            let id = mutate(ctx, |c, now| Ok(c.plan.set_condition(c.me, &text, now)?))?;
            say!("Safety condition {} set.", id.short());
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
            say!("Accepted.");
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
            say!("Offer {} posted.", id.short());
        }
        OfferCmd::Withdraw { offer } => {
            mutate(ctx, |c, now| {
                let view = c.plan.view();
                let id = context::entry(view.offers.iter().map(|x| &x.id), &offer, "offer")?;
                Ok(c.plan.withdraw_offer(c.me, &id, now)?)
            })?;
            say!("Withdrawn.");
        }
    }
    Ok(())
}

fn meeting(ctx: &mut Context, cmd: MeetingCmd) -> CliResult {
    match cmd {
        MeetingCmd::Add { at, place, agenda } => {
            let at = dates::parse(&at)?;
            let id = mutate(ctx, |c, now| {
                Ok(c.plan.schedule_meeting(c.me, at, &place, &agenda, now)?)
            })?;
            say!("Meeting {} planned for {}.", id.short(), dates::format(at));
        }
        MeetingCmd::Edit {
            meeting,
            at,
            place,
            agenda,
        } => {
            let at = at.as_deref().map(dates::parse).transpose()?;
            mutate(ctx, |c, now| {
                let view = c.plan.view();
                let id = context::entry(view.meetings.iter().map(|x| &x.id), &meeting, "meeting")?;
                let update = MeetingUpdate { at, place, agenda };
                Ok(c.plan.update_meeting(c.me, &id, update, now)?)
            })?;
            say!("Saved.");
        }
        MeetingCmd::Cancel { meeting } => {
            mutate(ctx, |c, now| {
                let view = c.plan.view();
                let id = context::entry(view.meetings.iter().map(|x| &x.id), &meeting, "meeting")?;
                Ok(c.plan.cancel_meeting(c.me, &id, now)?)
            })?;
            say!("The meeting is called off.");
        }
        MeetingCmd::Rsvp { meeting, answer } => {
            let answer: Rsvp = parse(&answer)?;
            mutate(ctx, |c, now| {
                let view = c.plan.view();
                let id = context::entry(view.meetings.iter().map(|x| &x.id), &meeting, "meeting")?;
                Ok(c.plan.rsvp(c.me, &id, answer, now)?)
            })?;
            say!("Thanks, noted: {answer}.");
        }
    }
    Ok(())
}
