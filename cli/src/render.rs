//! Human-readable output: the plan as tables. `--json` output bypasses this module.

use comfy_table::Table;
use kring_client::device::Person;
use kring_plan::export::When;
use kring_plan::followup::{CoordinatorOverview, MyWeek, Severity};
use kring_plan::plan::{Language, MemberId, PlanView, Schedule, TaskView};

use crate::dates;
use crate::i18n::{self, word};

fn table(header: &[String]) -> Table {
    let mut t = Table::new();
    t.set_header(header.to_vec());
    t
}

pub fn schedule(s: &Schedule) -> String {
    match s {
        Schedule::Unscheduled => t!("schedule-when-needed"),
        Schedule::Due { at } => t!("schedule-due", date = dates::format_moment(*at)),
        Schedule::Repeat(_) => {
            kring_plan::export::schedule_phrase(i18n::language(), dates::zone(), s)
        }
        Schedule::Weekly {
            first_at,
            every_weeks,
            until,
        } => {
            let from = dates::format(*first_at);
            match until {
                Some(u) => t!(
                    "schedule-weekly-until",
                    every_weeks = *every_weeks,
                    from = from,
                    until = dates::format(*u)
                ),
                None => t!("schedule-weekly", every_weeks = *every_weeks, from = from),
            }
        }
    }
}

/// "Jan, Piet" for the winners, plus who lost a concurrent claim.
fn who(view: &PlanView, task: &TaskView) -> String {
    let names = |winner: bool| {
        task.claims
            .iter()
            .filter(|c| c.winner == winner)
            .map(|c| view.display_name(&c.member))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut s = names(true);
    if task.overbooked {
        s.push_str(&t!("who-overbooked", others = names(false)));
    }
    s
}

fn state(task: &TaskView) -> String {
    if task.is_done() {
        t!("state-done")
    } else if task.status != kring_plan::plan::TaskStatus::Open {
        word("task-status", &task.status.to_string())
    } else if task.free_slots() > 0 {
        t!("state-open", free = task.free_slots(), slots = task.slots)
    } else {
        t!("state-taken")
    }
}

pub fn tasks(view: &PlanView) -> String {
    let mut t = table(&[
        t!("col-id"),
        t!("col-task"),
        t!("col-when"),
        t!("col-who"),
        t!("col-status"),
        t!("col-checks"),
    ]);
    for task in &view.tasks {
        t.add_row(vec![
            task.id.short().to_owned(),
            task.title.clone(),
            schedule(&task.schedule),
            who(view, task),
            state(task),
            task.checker
                .as_ref()
                .map(|c| view.display_name(c))
                .unwrap_or_default(),
        ]);
    }
    t.to_string()
}

pub fn members(view: &PlanView, me: Option<&MemberId>) -> String {
    let mut t = table(&[
        t!("col-id"),
        t!("col-name"),
        t!("col-relation"),
        t!("col-role"),
        t!("col-joined"),
    ]);
    for m in &view.members {
        let mut name = m.display_name.clone();
        if Some(&m.id) == me {
            name.push_str(&t!("name-you"));
        }
        if m.removed_at.is_some() {
            name.push_str(&t!("name-removed"));
        }
        t.add_row(vec![
            m.id.short().to_owned(),
            name,
            word("relation", &m.relation.to_string()),
            m.role_label.clone(),
            dates::format(m.joined_at),
        ]);
    }
    t.to_string()
}

/// `kring member list`: everyone who can read, with their role from the membership log.
pub fn people(people: &[Person], me: &MemberId) -> String {
    let mut t = table(&[
        t!("col-id"),
        t!("col-name"),
        t!("col-role"),
        t!("col-mark"),
        t!("col-relation"),
        t!("col-devices"),
        t!("col-joined"),
    ]);
    for p in people {
        let mut name = p.name.clone().unwrap_or_else(|| t!("name-none"));
        if &p.id == me {
            name.push_str(&t!("name-you"));
        }
        if p.removed {
            name.push_str(&t!("name-removed"));
        }
        let devices: Vec<String> = p.devices.iter().map(short_device).collect();
        t.add_row(vec![
            p.id.short().to_owned(),
            name,
            p.capability
                .map_or("-".into(), |c| word("capability", c.as_str())),
            p.designation
                .map_or(String::new(), |d| word("designation", &d.to_string())),
            p.relation
                .map_or(String::new(), |r| word("relation", &r.to_string())),
            devices.join(", "),
            p.joined_at.map_or(String::new(), dates::format),
        ]);
    }
    format!("{t}\n")
}

/// `kring task occurrences`: one line per date, in the circle's time zone.
pub fn occurrences(rows: &[crate::commands::OccurrenceRow]) -> String {
    let mut t = table(&[t!("col-when"), t!("col-who"), t!("col-status")]);
    for r in rows {
        let status = match (r.handed_over, r.free) {
            (true, f) if f > 0 => t!("turn-handed-over"),
            (_, 0) => t!("state-taken"),
            (_, f) => t!("turn-free", free = f),
        };
        t.add_row(vec![r.when.clone(), r.people.join(", "), status]);
    }
    format!("{t}\n{}\n", t!("times-in", zone = dates::zone()))
}

/// A device key shortened for people (the full key is 64 hex characters).
fn short_device(device: &kring_trust::identity::DeviceId) -> String {
    device.to_string().chars().take(8).collect()
}

fn list(title: &str, items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = items.iter().map(|i| format!("  - {i}")).collect();
    // The title carries its own punctuation ("Concerns:", "Wat willen we bereiken?").
    format!("{title}\n{}\n", lines.join("\n"))
}

pub fn plan(view: &PlanView, me: &MemberId) -> String {
    let p = &view.plan;
    let texts = |items: &[kring_plan::plan::TextItem]| {
        items.iter().map(|i| i.text.clone()).collect::<Vec<_>>()
    };
    let mut out = t!(
        "show-heading",
        circle = &view.circle.name,
        main_person = view.display_name(&view.circle.main_person),
        language = word("language", &view.circle.language.to_string()),
        status = word("plan-status", &p.status.to_string())
    ) + "\n";
    if !p.question.is_empty() {
        out.push_str(&(t!("show-question", question = &p.question) + "\n"));
    }
    out.push_str(&list(&t!("show-concerns"), &texts(&p.concerns)));
    out.push_str(&list(&t!("show-goals"), &texts(&p.goals)));
    out.push_str(&list(&t!("show-contingencies"), &texts(&p.contingencies)));
    let conditions: Vec<String> = view
        .conditions
        .iter()
        .map(|c| {
            let accepted = if c.accepted_at.is_some() {
                t!("condition-accepted")
            } else {
                t!("condition-not-accepted")
            };
            t!(
                "show-condition",
                text = &c.text,
                id = c.id.short(),
                set_by = view.display_name(&c.set_by),
                accepted = accepted
            )
        })
        .collect();
    out.push_str(&list(&t!("show-conditions"), &conditions));
    out.push_str(
        &(t!(
            "show-next-evaluation",
            date = dates::format_moment_opt(p.next_review_at)
        ) + "\n"),
    );
    let approvals: Vec<String> = p
        .approvals
        .iter()
        .map(|a| view.display_name(&a.member))
        .collect();
    if !approvals.is_empty() {
        out.push_str(&(t!("show-approved-by", names = approvals.join(", ")) + "\n"));
    }
    out.push_str(&format!("\n{}\n{}\n", t!("show-tasks"), tasks(view)));
    let offers: Vec<String> = view
        .offers
        .iter()
        .filter(|o| o.withdrawn_at.is_none())
        .map(|o| {
            t!(
                "show-offer",
                by = view.display_name(&o.by),
                text = &o.text,
                when = &o.availability,
                id = o.id.short()
            )
        })
        .collect();
    out.push_str(&list(&t!("show-offers"), &offers));
    let meetings: Vec<String> = view
        .meetings
        .iter()
        .map(|m| {
            let yes = m
                .rsvps
                .iter()
                .filter(|r| r.answer == kring_plan::plan::Rsvp::Yes)
                .count();
            t!(
                "show-meeting",
                at = dates::format_moment(m.at),
                place = &m.place,
                agenda = &m.agenda,
                id = m.id.short(),
                coming = yes
            )
        })
        .collect();
    out.push_str(&list(&t!("show-meetings"), &meetings));
    let log: Vec<String> = view
        .log
        .iter()
        .rev()
        .take(10)
        .map(|e| {
            format!(
                "{} {} ({}): {}",
                dates::format(e.at),
                view.display_name(&e.by),
                word("log-kind", &e.kind.to_string()),
                e.text
            )
        })
        .collect();
    out.push_str(&list(&t!("show-log"), &log));
    out.push_str(&format!(
        "\n{}\n{}\n",
        t!("show-people"),
        members(view, Some(me))
    ));
    out
}

/// The coordinator's follow-up: one row per circle, then every signal, most urgent first.
pub fn followup(overview: &CoordinatorOverview, lang: Language) -> String {
    if overview.circles.is_empty() {
        return t!("followup-no-circles") + "\n";
    }
    let mut circles = table(&[
        t!("col-circle"),
        t!("col-status"),
        t!("col-urgent"),
        t!("col-attention"),
        t!("col-on-time"),
        t!("col-last-activity"),
        t!("col-most-urgent"),
    ]);
    for r in &overview.circles {
        let on_time = r.health.percent.map_or_else(
            || "-".to_owned(),
            |p| format!("{p}% ({}/{})", r.health.on_time, r.health.due),
        );
        let last = r
            .days_since_last_activity
            .map_or_else(|| "-".to_owned(), |d| t!("days-ago", days = d));
        circles.add_row(vec![
            format!("{} {}", r.circle.short(), r.circle_name),
            word("plan-status", &r.status.to_string()),
            r.urgent.to_string(),
            r.attention.to_string(),
            on_time,
            last,
            r.signals
                .first()
                .map(|s| s.describe(lang, &r.timezone))
                .unwrap_or_default(),
        ]);
    }
    let mut out = format!("{circles}\n");
    if overview.items.is_empty() {
        out.push_str(&format!("\n{}\n", t!("followup-nothing")));
        return out;
    }
    let mut items = table(&[
        String::new(),
        t!("col-circle"),
        t!("col-what"),
        t!("col-date"),
    ]);
    for item in &overview.items {
        let severity = match item.signal.severity {
            Severity::Urgent => t!("severity-urgent"),
            Severity::Attention => t!("severity-attention"),
        };
        items.add_row(vec![
            severity,
            item.circle_name.clone(),
            item.signal.describe(lang, &item.timezone),
            dates::format_when_in(When::moment(item.signal.at, &item.timezone), &item.timezone),
        ]);
    }
    out.push_str(&format!("\n{}\n{items}\n", t!("followup-to-do")));
    out
}

/// "My plan this week" as plain sentences.
pub fn week(week: &MyWeek) -> String {
    let mut out = format!("{}\n{}\n", week.heading, week.summary);
    for item in &week.items {
        out.push_str(&format!("  - {}\n", item.sentence));
    }
    out
}

/// `kring invite list`: one line per invite, newest first.
pub fn invites(
    invites: &[kring_client::device::InviteInfo],
    name: impl Fn(&kring_plan::plan::MemberId) -> String,
) -> String {
    use kring_client::device::InviteState as S;
    if invites.is_empty() {
        return t!("invites-none") + "\n";
    }
    let mut t = table(&[
        t!("col-id"),
        t!("col-role"),
        t!("col-for"),
        t!("col-made-by"),
        t!("col-until"),
        t!("col-status"),
    ]);
    for i in invites {
        let state = match i.state {
            S::Open => "open",
            S::Used => "used",
            S::Expired => "expired",
            S::Revoked => "revoked",
        };
        t.add_row(vec![
            i.id.short(),
            word("capability", i.capability.as_str()),
            i.for_member.as_ref().map_or(String::new(), &name),
            i.made_by.as_ref().map_or(String::new(), &name),
            dates::format(i.expires_at),
            word("invite-state", state),
        ]);
    }
    format!("{t}\n")
}
