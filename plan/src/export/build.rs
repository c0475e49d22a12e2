//! From a plan to an [`ExportDocument`]: which sections, in which order, with what.

use super::document::{Block, ExportDocument, Line, Section, SectionKind};
use super::text::{
    format_date, format_date_time, moment_phrase, more_needed, relation_name, schedule_phrase,
    status_name, texts, Texts,
};
use crate::plan::ids::MemberId;
use crate::plan::view::{Language, OwnerKind, PlanView, Relation, TaskStatus, TaskView, TextItem};
use kring_trust::time::Timestamp;

/// The plan as a document in `lang`, dated `now`.
pub fn build_document(plan: &PlanView, now: Timestamp, lang: Language) -> ExportDocument {
    let zone = plan.circle.timezone.as_str();
    let t = texts(lang);
    let section = |kind, heading: &str, blocks| Section {
        kind,
        heading: heading.to_owned(),
        blocks,
    };
    let (professional, circle): (Vec<&TaskView>, Vec<&TaskView>) = plan
        .tasks
        .iter()
        .filter(|task| task.status == TaskStatus::Open)
        .partition(|task| task.owner_kind == OwnerKind::Professional);
    ExportDocument {
        language: lang,
        title: Line::new().label(t.doc_title).user(&plan.circle.name),
        meta: vec![
            Line::new().label(t.circle).user(&plan.circle.name),
            Line::new()
                .label(t.main_person)
                .user(plan.display_name(&plan.circle.main_person)),
            Line::new()
                .label(t.status)
                .kring(status_name(lang, plan.plan.status)),
            Line::new()
                .label(t.made_on)
                .kring(format_date_time(lang, zone, now)),
        ],
        sections: vec![
            section(SectionKind::Question, t.question, question(plan, t)),
            section(
                SectionKind::Concerns,
                t.concerns,
                text_list(&plan.plan.concerns, t),
            ),
            section(SectionKind::Goals, t.goals, text_list(&plan.plan.goals, t)),
            section(
                SectionKind::Agreements,
                t.agreements,
                task_table(plan, &circle, lang),
            ),
            section(
                SectionKind::Professionals,
                t.professionals,
                task_table(plan, &professional, lang),
            ),
            section(SectionKind::Safety, t.safety, safety(plan, lang)),
            section(
                SectionKind::Contingencies,
                t.contingencies,
                text_list(&plan.plan.contingencies, t),
            ),
            section(
                SectionKind::Evaluation,
                t.evaluation,
                evaluation(plan, lang),
            ),
            section(
                SectionKind::Participants,
                t.participants,
                participants(plan, lang),
            ),
            section(SectionKind::Approvals, t.approvals, approvals(plan, lang)),
        ],
        footer: Line::new().kring(format!(
            "{} {}. {}",
            t.times_in_zone, plan.circle.timezone, t.footer
        )),
    }
}

fn nothing_yet(t: &Texts) -> Vec<Block> {
    vec![Block::Note {
        text: t.nothing_yet.to_owned(),
    }]
}

fn question(plan: &PlanView, t: &Texts) -> Vec<Block> {
    if plan.plan.question.trim().is_empty() {
        return nothing_yet(t);
    }
    vec![Block::Paragraph {
        line: Line::new().user(&plan.plan.question),
    }]
}

fn text_list(items: &[TextItem], t: &Texts) -> Vec<Block> {
    if items.is_empty() {
        return nothing_yet(t);
    }
    vec![Block::List {
        items: items.iter().map(|i| Line::new().user(&i.text)).collect(),
    }]
}

/// Names of `members` separated by commas (each name escaped on its own).
fn names(plan: &PlanView, members: &[&MemberId]) -> Line {
    members
        .iter()
        .enumerate()
        .fold(Line::new(), |line, (i, m)| {
            let line = if i > 0 { line.kring(", ") } else { line };
            line.user(plan.display_name(m))
        })
}

/// Who does a task: the winners; otherwise the main person for their own tasks, the
/// professional who wrote a professional task, or "nobody yet".
fn who(plan: &PlanView, task: &TaskView, lang: Language) -> Line {
    let t = texts(lang);
    let winners: Vec<&MemberId> = task.winners().collect();
    if winners.is_empty() {
        let creator_is_professional = plan
            .member(&task.created_by)
            .is_some_and(|m| m.relation == Relation::Professional);
        return match task.owner_kind {
            OwnerKind::MainPerson => names(plan, &[&plan.circle.main_person]),
            OwnerKind::Professional if creator_is_professional => names(plan, &[&task.created_by]),
            _ => Line::new().kring(t.nobody_yet),
        };
    }
    let line = names(plan, &winners);
    match task.free_slots() {
        0 => line,
        n => line.kring(more_needed(lang, n)),
    }
}

fn task_table(plan: &PlanView, tasks: &[&TaskView], lang: Language) -> Vec<Block> {
    let zone = plan.circle.timezone.as_str();
    let t = texts(lang);
    if tasks.is_empty() {
        return nothing_yet(t);
    }
    let rows = tasks
        .iter()
        .map(|task| {
            let mut what = Line::new().strong_user(&task.title);
            if !task.notes.trim().is_empty() {
                what = what.kring(" — ").user(&task.notes);
            }
            if task.is_done() {
                what = what.kring(format!(" ({})", t.done));
            }
            let checker = match &task.checker {
                Some(m) => names(plan, &[m]),
                None => Line::new().kring("—"),
            };
            vec![
                what,
                who(plan, task, lang),
                Line::new().kring(schedule_phrase(lang, zone, &task.schedule)),
                checker,
            ]
        })
        .collect();
    let columns = [t.col_what, t.col_who, t.col_when, t.col_checker]
        .map(str::to_owned)
        .to_vec();
    vec![Block::Table { columns, rows }]
}

fn safety(plan: &PlanView, lang: Language) -> Vec<Block> {
    let zone = plan.circle.timezone.as_str();
    let t = texts(lang);
    if plan.conditions.is_empty() {
        return nothing_yet(t);
    }
    let items = plan
        .conditions
        .iter()
        .map(|c| {
            let mut line = Line::new()
                .user(&c.text)
                .kring(" — ")
                .label(t.set_by)
                .user(plan.display_name(&c.set_by));
            if let Some(role) = plan
                .member(&c.set_by)
                .map(|m| m.role_label.trim())
                .filter(|r| !r.is_empty())
            {
                line = line.kring(" (").user(role).kring(")");
            }
            match c.accepted_at {
                Some(at) => line.kring(format!(
                    ". {} {}.",
                    t.accepted_on,
                    format_date(lang, zone, at)
                )),
                None => line.kring(format!(". {}.", t.not_accepted_yet)),
            }
        })
        .collect();
    vec![Block::List { items }]
}

fn evaluation(plan: &PlanView, lang: Language) -> Vec<Block> {
    let zone = plan.circle.timezone.as_str();
    let t = texts(lang);
    let mut blocks = vec![match plan.plan.next_review_at {
        Some(at) => Block::Paragraph {
            line: Line::new()
                .label(t.next_evaluation)
                .kring(moment_phrase(lang, zone, at)),
        },
        None => Block::Note {
            text: t.no_evaluation_date.to_owned(),
        },
    }];
    if !plan.plan.reviews.is_empty() {
        blocks.push(Block::Paragraph {
            line: Line::new().kring(format!("{}:", t.earlier_evaluations)),
        });
        let items = plan
            .plan
            .reviews
            .iter()
            .map(|r| {
                Line::new()
                    .kring(format!("{} — ", format_date(lang, zone, r.at)))
                    .user(plan.display_name(&r.by))
                    .kring(": ")
                    .user(&r.summary)
            })
            .collect();
        blocks.push(Block::List { items });
    }
    blocks
}

fn participants(plan: &PlanView, lang: Language) -> Vec<Block> {
    let t = texts(lang);
    let rows = plan
        .active_members()
        .map(|m| {
            let relation = if m.id == plan.circle.main_person {
                Relation::MainPerson
            } else {
                m.relation
            };
            vec![
                Line::new().user(&m.display_name),
                Line::new().kring(relation_name(lang, relation)),
                Line::new().user(&m.role_label),
            ]
        })
        .collect();
    let columns = [t.col_name, t.col_relation, t.col_role]
        .map(str::to_owned)
        .to_vec();
    vec![Block::Table { columns, rows }]
}

fn approvals(plan: &PlanView, lang: Language) -> Vec<Block> {
    let zone = plan.circle.timezone.as_str();
    let t = texts(lang);
    if plan.plan.approvals.is_empty() {
        return nothing_yet(t);
    }
    let items = plan
        .plan
        .approvals
        .iter()
        .map(|a| {
            let line = names(plan, &[&a.member]);
            let line = if a.member == plan.circle.main_person {
                line.kring(format!(" ({})", relation_name(lang, Relation::MainPerson)))
            } else {
                line
            };
            line.kring(format!(" — {}", format_date(lang, zone, a.at)))
        })
        .collect();
    vec![Block::List { items }]
}
