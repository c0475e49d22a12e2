//! Human-readable output: the plan as tables. `--json` output bypasses this module.

use comfy_table::Table;
use kring_core::device::Person;
use kring_core::followup::{CoordinatorOverview, MyWeek, Severity};
use kring_core::plan::{Language, MemberId, PlanView, Schedule, TaskView};

use crate::dates;

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.set_header(header.to_vec());
    t
}

pub fn schedule(s: &Schedule) -> String {
    match s {
        Schedule::Unscheduled => "when needed".into(),
        Schedule::Due { at } => format!("by {}", dates::format(*at)),
        Schedule::Repeat(_) => kring_core::export::schedule_phrase(Language::En, dates::zone(), s),
        Schedule::Weekly {
            first_at,
            every_weeks,
            until,
        } => {
            let every = if *every_weeks == 1 {
                "weekly".to_owned()
            } else {
                format!("every {every_weeks} weeks")
            };
            let until = until
                .map(|u| format!(" until {}", dates::format(u)))
                .unwrap_or_default();
            format!("{every} from {}{until}", dates::format(*first_at))
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
        s.push_str(&format!(" (overbooked: {} also claimed)", names(false)));
    }
    s
}

fn state(task: &TaskView) -> String {
    if task.is_done() {
        "done".into()
    } else if task.status != kring_core::plan::TaskStatus::Open {
        task.status.to_string()
    } else if task.free_slots() > 0 {
        format!("open ({} of {} free)", task.free_slots(), task.slots)
    } else {
        "taken".into()
    }
}

pub fn tasks(view: &PlanView) -> String {
    let mut t = table(&["id", "task", "when", "who", "status", "checks"]);
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
    let mut t = table(&["id", "name", "relation", "role", "joined"]);
    for m in &view.members {
        let mut name = m.display_name.clone();
        if Some(&m.id) == me {
            name.push_str(" (you)");
        }
        if m.removed_at.is_some() {
            name.push_str(" (removed from the circle)");
        }
        t.add_row(vec![
            m.id.short().to_owned(),
            name,
            m.relation.to_string(),
            m.role_label.clone(),
            dates::format(m.joined_at),
        ]);
    }
    t.to_string()
}

/// `kring member list`: everyone who can read, with their role from the membership log.
pub fn people(people: &[Person], me: &MemberId) -> String {
    let mut t = table(&[
        "id", "name", "role", "mark", "relation", "devices", "joined",
    ]);
    for p in people {
        let mut name = p
            .name
            .clone()
            .unwrap_or_else(|| "(no name in the plan)".into());
        if &p.id == me {
            name.push_str(" (you)");
        }
        if p.removed {
            name.push_str(" (removed from the circle)");
        }
        let devices: Vec<String> = p.devices.iter().map(short_device).collect();
        t.add_row(vec![
            p.id.short().to_owned(),
            name,
            p.capability.map_or("-".into(), |c| c.to_string()),
            p.designation.map_or(String::new(), |d| d.to_string()),
            p.relation.map_or(String::new(), |r| r.to_string()),
            devices.join(", "),
            p.joined_at.map_or(String::new(), dates::format),
        ]);
    }
    format!("{t}\n")
}

/// `kring task occurrences`: one line per date, in the circle's time zone.
pub fn occurrences(rows: &[crate::commands::OccurrenceRow]) -> String {
    let mut t = table(&["when", "who", "status"]);
    for r in rows {
        let status = match (r.handed_over, r.free) {
            (true, f) if f > 0 => "handed over: needs someone".to_owned(),
            (_, 0) => "taken".to_owned(),
            (_, f) => format!("{f} free"),
        };
        t.add_row(vec![r.when.clone(), r.people.join(", "), status]);
    }
    format!("{t}\n(times in {})\n", dates::zone())
}

/// A device key shortened for people (the full key is 64 hex characters).
fn short_device(device: &kring_core::identity::DeviceId) -> String {
    device.to_string().chars().take(8).collect()
}

fn list(title: &str, items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = items.iter().map(|i| format!("  - {i}")).collect();
    format!("{title}:\n{}\n", lines.join("\n"))
}

pub fn plan(view: &PlanView, me: &MemberId) -> String {
    let p = &view.plan;
    let texts = |items: &[kring_core::plan::TextItem]| {
        items.iter().map(|i| i.text.clone()).collect::<Vec<_>>()
    };
    let mut out = format!(
        "{} — plan for {} ({}), status: {}\n",
        view.circle.name,
        view.display_name(&view.circle.main_person),
        view.circle.language,
        p.status
    );
    if !p.question.is_empty() {
        out.push_str(&format!("Question: {}\n", p.question));
    }
    out.push_str(&list("Concerns", &texts(&p.concerns)));
    out.push_str(&list("Goals", &texts(&p.goals)));
    out.push_str(&list("If it goes differently", &texts(&p.contingencies)));
    let conditions: Vec<String> = view
        .conditions
        .iter()
        .map(|c| {
            let accepted = if c.accepted_at.is_some() {
                "accepted"
            } else {
                "not yet accepted"
            };
            format!(
                "{} [{}] — {}, {accepted}",
                c.text,
                c.id.short(),
                view.display_name(&c.set_by)
            )
        })
        .collect();
    out.push_str(&list("Safety conditions", &conditions));
    out.push_str(&format!(
        "Next evaluation: {}\n",
        dates::format_opt(p.next_review_at)
    ));
    let approvals: Vec<String> = p
        .approvals
        .iter()
        .map(|a| view.display_name(&a.member))
        .collect();
    if !approvals.is_empty() {
        out.push_str(&format!("Approved by: {}\n", approvals.join(", ")));
    }
    out.push_str(&format!("\nTasks\n{}\n", tasks(view)));
    let offers: Vec<String> = view
        .offers
        .iter()
        .filter(|o| o.withdrawn_at.is_none())
        .map(|o| {
            format!(
                "{} offers: {} {} [{}]",
                view.display_name(&o.by),
                o.text,
                o.availability,
                o.id.short()
            )
        })
        .collect();
    out.push_str(&list("Offers", &offers));
    let meetings: Vec<String> = view
        .meetings
        .iter()
        .map(|m| {
            let yes = m
                .rsvps
                .iter()
                .filter(|r| r.answer == kring_core::plan::Rsvp::Yes)
                .count();
            format!(
                "{} {} — {} [{}], {yes} coming",
                dates::format(m.at),
                m.place,
                m.agenda,
                m.id.short()
            )
        })
        .collect();
    out.push_str(&list("Meetings", &meetings));
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
                e.kind,
                e.text
            )
        })
        .collect();
    out.push_str(&list("Latest messages", &log));
    out.push_str(&format!("\nPeople\n{}\n", members(view, Some(me))));
    out
}

/// The coordinator's follow-up: one row per circle, then every signal, most urgent first.
pub fn followup(overview: &CoordinatorOverview, lang: Language) -> String {
    if overview.circles.is_empty() {
        return "No circles on this device yet.\n".into();
    }
    let mut circles = table(&[
        "circle",
        "status",
        "urgent",
        "attention",
        "on time (30 days)",
        "last activity",
        "most urgent",
    ]);
    for r in &overview.circles {
        let on_time = r.health.percent.map_or_else(
            || "-".to_owned(),
            |p| format!("{p}% ({}/{})", r.health.on_time, r.health.due),
        );
        let last = r
            .days_since_last_activity
            .map_or_else(|| "-".to_owned(), |d| format!("{d} days ago"));
        circles.add_row(vec![
            format!("{} {}", r.circle.short(), r.circle_name),
            r.status.to_string(),
            r.urgent.to_string(),
            r.attention.to_string(),
            on_time,
            last,
            r.signals
                .first()
                .map(|s| s.describe(lang))
                .unwrap_or_default(),
        ]);
    }
    let mut out = format!("{circles}\n");
    if overview.items.is_empty() {
        out.push_str("\nNothing needs attention.\n");
        return out;
    }
    let mut items = table(&["", "circle", "what", "date"]);
    for item in &overview.items {
        let severity = match item.signal.severity {
            Severity::Urgent => "URGENT",
            Severity::Attention => "attention",
        };
        items.add_row(vec![
            severity.to_owned(),
            item.circle_name.clone(),
            item.signal.describe(lang),
            dates::format(item.signal.at),
        ]);
    }
    out.push_str(&format!("\nTo do, most urgent first\n{items}\n"));
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
