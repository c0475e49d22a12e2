//! The plan as an HL7 FHIR R4 `Bundle` of type `collection`: one `CarePlan` (the
//! question as its description, each open task an activity, the goals as `Goal`s, the
//! concerns, contingencies and safety conditions as notes), the main person as its
//! `Patient` subject and author (her plan), and the circle as its `CareTeam`: family
//! and friends as `RelatedPerson`s, professionals as `Practitioner`s.
//!
//! Resources refer to each other by `urn:uuid:` full URLs, name-based UUIDs (v5) of
//! the Kring ids, so the same plan handed over twice has the same identities and a
//! receiving system can update rather than duplicate. Names appear only with the main
//! person's consent ([`Consent::names`]); without it a person is their relation.
//! Every text a person wrote is a JSON string value and nothing else (serde_json
//! escapes it), so no text can become structure.

use kring_plan::export::{relation_name, schedule_phrase};
use kring_plan::plan::view::{
    Designation, Language, MemberView, OwnerKind, PlanStatus, PlanView, Relation, TaskStatus,
    TaskView,
};
use kring_trust::time::Timestamp;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::Consent;

/// Kring's namespace for the resources' name-based UUIDs.
const NAMESPACE: Uuid = Uuid::from_u128(0x6b72_696e_672d_6861_6e64_6f76_6572_0001);

/// The plan as a FHIR R4 `Bundle` (JSON), dated `now`.
pub fn bundle(plan: &PlanView, consent: &Consent, now: Timestamp) -> Value {
    let lang = plan.circle.language;
    let circle = plan.circle.id.as_str();
    let people: Vec<&MemberView> = plan.members.iter().filter(|m| m.is_active()).collect();
    let mut entries = vec![patient(plan, consent)];
    entries.extend(
        people
            .iter()
            .filter(|m| m.id != plan.circle.main_person)
            .map(|m| person(plan, m, consent)),
    );
    let goals: Vec<Value> = plan
        .plan
        .goals
        .iter()
        .map(|goal| {
            resource(
                "Goal",
                &format!("goal:{}", goal.id.as_str()),
                json!({
                    "language": lang.as_str(),
                    "lifecycleStatus": goal_status(plan.plan.status),
                    "description": { "text": goal.text },
                    "subject": reference(&patient_key(plan)),
                }),
            )
        })
        .collect();
    let goal_refs: Vec<Value> = plan
        .plan
        .goals
        .iter()
        .map(|goal| reference(&format!("goal:{}", goal.id.as_str())))
        .collect();
    entries.extend(goals);
    entries.push(resource(
        "CareTeam",
        &format!("careteam:{circle}"),
        json!({
            "language": lang.as_str(),
            "status": "active",
            "name": plan.circle.name,
            "subject": reference(&patient_key(plan)),
            "participant": people.iter().map(|m| json!({
                // The relation only: a role label is text people typed about
                // themselves, which may name them.
                "role": [{ "text": relation_name(lang, m.relation) }],
                "member": reference(&person_key(m)),
            })).collect::<Vec<_>>(),
        }),
    ));
    let mut care_plan = json!({
        "language": lang.as_str(),
        "status": care_plan_status(plan.plan.status),
        "intent": "plan",
        "title": plan.circle.name,
        "subject": reference(&patient_key(plan)),
        "created": date_time(plan.circle.created_at),
        "author": reference(&patient_key(plan)),
        "careTeam": [reference(&format!("careteam:{circle}"))],
        "goal": goal_refs,
        "activity": plan.tasks.iter()
            .filter(|t| t.status == TaskStatus::Open)
            .map(|t| activity(plan, t))
            .collect::<Vec<_>>(),
        "note": notes(plan, consent, now),
    });
    if !plan.plan.question.is_empty() {
        care_plan["description"] = json!(plan.plan.question);
    }
    if let Some(review) = plan.plan.next_review_at {
        care_plan["period"] =
            json!({ "start": date_time(plan.circle.created_at), "end": date_time(review) });
    }
    entries.insert(
        0,
        resource("CarePlan", &format!("careplan:{circle}"), care_plan),
    );
    json!({
        "resourceType": "Bundle",
        "id": uuid(&format!("bundle:{circle}:{}", now.0)).to_string(),
        "language": lang.as_str(),
        "type": "collection",
        "timestamp": date_time(now),
        "entry": entries,
    })
}

fn uuid(key: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, key.as_bytes())
}

fn full_url(key: &str) -> String {
    format!("urn:uuid:{}", uuid(key))
}

fn reference(key: &str) -> Value {
    json!({ "reference": full_url(key) })
}

/// A bundle entry: the resource with its type and id, under its full URL.
fn resource(kind: &str, key: &str, mut body: Value) -> Value {
    body["resourceType"] = json!(kind);
    body["id"] = json!(uuid(key).to_string());
    json!({ "fullUrl": full_url(key), "resource": body })
}

fn patient_key(plan: &PlanView) -> String {
    format!("member:{}", plan.circle.main_person.as_str())
}

fn person_key(member: &MemberView) -> String {
    format!("member:{}", member.id.as_str())
}

fn is_professional(member: &MemberView) -> bool {
    member.designation == Some(Designation::Professional)
        || member.relation == Relation::Professional
}

fn name(member: &MemberView, consent: &Consent) -> Option<Value> {
    (consent.names && !member.display_name.is_empty())
        .then(|| json!([{ "text": member.display_name }]))
}

fn patient(plan: &PlanView, consent: &Consent) -> Value {
    let mut body = json!({ "language": plan.circle.language.as_str(), "active": true });
    if let Some(main) = plan.member(&plan.circle.main_person) {
        if let Some(name) = name(main, consent) {
            body["name"] = name;
        }
    }
    resource("Patient", &patient_key(plan), body)
}

/// A professional is a `Practitioner`; anyone else in the circle a `RelatedPerson`.
fn person(plan: &PlanView, member: &MemberView, consent: &Consent) -> Value {
    let lang = plan.circle.language;
    let mut body = if is_professional(member) {
        json!({ "language": lang.as_str(), "active": true })
    } else {
        json!({
            "language": lang.as_str(),
            "active": true,
            "patient": reference(&patient_key(plan)),
            "relationship": [{ "text": relation_name(lang, member.relation) }],
        })
    };
    if let Some(name) = name(member, consent) {
        body["name"] = name;
    }
    let kind = if is_professional(member) {
        "Practitioner"
    } else {
        "RelatedPerson"
    };
    resource(kind, &person_key(member), body)
}

fn activity(plan: &PlanView, task: &TaskView) -> Value {
    let lang = plan.circle.language;
    let mut detail = json!({
        "kind": "Task",
        "status": if task.is_done() {
            "completed"
        } else if task.winners().next().is_some() {
            "scheduled"
        } else {
            "not-started"
        },
        "description": task.title,
        "scheduledString": schedule_phrase(lang, &plan.circle.timezone, &task.schedule),
        "performer": task.winners().filter_map(|m| plan.member(m)).map(|m| reference(&person_key(m))).collect::<Vec<_>>(),
    });
    if task.owner_kind == OwnerKind::MainPerson {
        detail["performer"] = json!([reference(&patient_key(plan))]);
    }
    let mut activity = json!({ "detail": detail });
    if !task.notes.is_empty() {
        activity["progress"] = json!([{ "text": task.notes }]);
    }
    activity
}

/// Concerns, contingencies and safety conditions, each a note with Kring's label in
/// the plan's language, and the hand-over itself.
fn notes(plan: &PlanView, consent: &Consent, now: Timestamp) -> Vec<Value> {
    let lang = plan.circle.language;
    let pick = |nl: &'static str, en: &'static str| if lang == Language::Nl { nl } else { en };
    let labelled = |label: &str, text: &str| json!({ "text": format!("{label}: {text}") });
    let mut notes: Vec<Value> = Vec::new();
    notes.extend(
        plan.plan
            .concerns
            .iter()
            .map(|c| labelled(pick("Zorg", "Concern"), &c.text)),
    );
    notes.extend(plan.plan.contingencies.iter().map(|c| {
        labelled(
            pick("Als het anders gaat", "If it goes differently"),
            &c.text,
        )
    }));
    notes.extend(
        plan.conditions
            .iter()
            .map(|c| labelled(pick("Veiligheidsvoorwaarde", "Safety condition"), &c.text)),
    );
    notes.push(json!({
        "time": date_time(now),
        "text": format!("{}: {}", pick("Overgedragen aan", "Handed over to"), consent.recipient),
    }));
    notes
}

/// FHIR `CarePlan.status` (required binding `request-status`).
fn care_plan_status(status: PlanStatus) -> &'static str {
    match status {
        PlanStatus::Draft | PlanStatus::Presented => "draft",
        PlanStatus::Accepted => "active",
        PlanStatus::Archived => "completed",
    }
}

/// FHIR `Goal.lifecycleStatus` (required binding `goal-status`).
fn goal_status(status: PlanStatus) -> &'static str {
    match status {
        PlanStatus::Draft | PlanStatus::Presented => "proposed",
        PlanStatus::Accepted => "active",
        PlanStatus::Archived => "completed",
    }
}

/// A FHIR `dateTime` in UTC, to the second.
fn date_time(at: Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(at.0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
