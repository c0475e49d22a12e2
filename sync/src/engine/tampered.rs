//! A modified client: changes written with the automerge API directly, around the
//! plan's typed operations, then signed and sealed as perfectly valid envelopes by a
//! plain member. Every other replica must refuse them with the same verdict, whatever
//! the order in which the envelopes arrive.

use automerge::transaction::Transactable;
use automerge::{Automerge, Change, ObjType, ReadDoc, ScalarValue, ROOT};
use kring_plan::plan::DeviceActor;

use super::*;
use crate::envelope::seal;
use kring_plan::plan::{
    Language, MemberId, NewCircle, NewMember, NewTask, PlanView, Relation, TaskId,
};
use kring_trust::membership::Capability;
use kring_trust::testkit::{Person, TestCircle};

const T0: Timestamp = Timestamp(1_780_000_000_000);

/// A relay circle: the owner's plan with one task of hers, a member who joined and
/// added a task of his own, and the trust each replica holds.
struct Scene {
    circle: TestCircle,
    owner: Person,
    member: Person,
    /// The owner's replica and the member's (honest so far).
    owner_plan: CirclePlan,
    member_plan: CirclePlan,
    owners_task: TaskId,
    /// The last envelope per author the owner's replica has seen.
    owner_heads: DeviceHeads,
    /// Envelopes the member has sent so far (for the chain).
    member_seq: u64,
    member_prev: Option<EnvelopeHash>,
    /// Every envelope the member sealed, as stored.
    member_sent: Vec<Vec<u8>>,
}

impl Scene {
    fn new() -> Scene {
        let (mut circle, owner) = TestCircle::new();
        let member = circle.join(&owner.device, Capability::Member);
        let mut owner_plan = CirclePlan::create_with_main_person(
            owner.device.actor_id(),
            circle.state.circle().clone(),
            owner.member.clone(),
            NewCircle {
                name: "Kring van Sanne".into(),
                language: Language::Nl,
                main_person_name: "Sanne".into(),
            },
            T0,
        )
        .unwrap();
        owner_plan.set_authority(trust(&circle, &owner).authority());
        owner_plan
            .set_question(
                &owner.member,
                "Hoe houd ik mijn huis?",
                T0.plus_millis(1000),
            )
            .unwrap();
        let owners_task = owner_plan
            .add_task(
                &owner.member,
                NewTask::simple("Naar de huisarts"),
                T0.plus_millis(2000),
            )
            .unwrap();
        let mut member_plan =
            CirclePlan::load(&owner_plan.export(), member.device.actor_id()).unwrap();
        member_plan.set_authority(trust(&circle, &member).authority());
        let mut scene = Scene {
            circle,
            owner,
            member,
            owner_plan,
            member_plan,
            owners_task,
            owner_heads: DeviceHeads::new(),
            member_seq: 0,
            member_prev: None,
            member_sent: Vec::new(),
        };
        let heads = scene.member_plan.heads();
        scene
            .member_plan
            .join(
                &scene.member.member,
                NewMember {
                    display_name: "Jan".into(),
                    relation: Relation::Family,
                    role_label: String::new(),
                },
                T0.plus_millis(3000),
            )
            .unwrap();
        let joined = scene.member_plan.own_changes_since(&heads);
        let envelope = scene.member_envelope(&joined);
        let outcome = scene.deliver_to_owner(vec![envelope]);
        assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
        scene
    }

    /// Seals `changes` as the member's next envelope: valid in every way the relay
    /// and the envelope layer can check.
    fn member_envelope(&mut self, changes: &[Change]) -> Vec<u8> {
        self.member_seq += 1;
        let keys = self.circle.keys(&self.member.device);
        let sealed = seal(
            &self.member.device,
            &self.circle.state,
            &keys,
            self.member_seq,
            self.member_prev,
            changes,
        )
        .unwrap();
        self.member_prev = Some(sealed.hash());
        self.member_sent.push(sealed.as_bytes().to_vec());
        sealed.as_bytes().to_vec()
    }

    /// A change the member's modified client writes straight into the document.
    fn tampered(
        &mut self,
        write: impl FnOnce(&mut automerge::transaction::Transaction<'_>, &Automerge),
    ) -> Change {
        let mut doc = Automerge::load(&self.member_plan.export())
            .unwrap()
            .with_actor(self.member.device.actor_id());
        let snapshot = doc.clone();
        let mut tx = doc.transaction();
        write(&mut tx, &snapshot);
        tx.commit();
        let change = doc.get_last_local_change().unwrap().clone();
        // The modified client keeps its own change and builds on it, as a real one
        // would (merging the raw bytes skips the rules, as such a client does).
        self.member_plan.merge_bytes(&doc.save()).unwrap();
        change
    }

    fn received(&self, bytes: Vec<u8>, cursor: u64, heads: &DeviceHeads) -> Received {
        let trust = trust(&self.circle, &self.owner);
        match classify(bytes, cursor, &trust, &self.owner.device.id(), heads) {
            Incoming::Apply(received) => received,
            other => panic!("the envelope itself is valid: {other:?}"),
        }
    }

    fn deliver_to_owner(&mut self, envelopes: Vec<Vec<u8>>) -> ApplyOutcome {
        let mut heads = self.owner_heads.clone();
        let received: Vec<Received> = envelopes
            .into_iter()
            .enumerate()
            .map(|(i, bytes)| {
                let r = self.received(bytes, i as u64 + 1, &heads);
                heads.insert(r.author, (r.device_seq, r.hash));
                r
            })
            .collect();
        self.owner_heads = heads;
        apply_received(&mut self.owner_plan, &received)
    }
}

fn trust(circle: &TestCircle, person: &Person) -> CircleTrust {
    let log: Vec<Vec<u8>> = circle.log.iter().map(|e| e.as_bytes().to_vec()).collect();
    CircleTrust::from_log(&person.device, &log).unwrap()
}

fn map(doc: &Automerge, keys: &[&str]) -> automerge::ObjId {
    let mut obj = ROOT;
    for key in keys {
        obj = doc.get(&obj, *key).unwrap().unwrap().1;
    }
    obj
}

/// The three rewrites of the issue: the question, archiving, cancelling her task.
const REWRITES: [&str; 3] = ["question", "archive", "cancel"];

fn forbidden_rewrite(scene: &mut Scene, what: &str) -> Change {
    let task = scene.owners_task.to_string();
    let what = what.to_owned();
    scene.tampered(move |tx, doc| match what.as_str() {
        "question" => tx
            .put(map(doc, &["plan"]), "question", "Andere vraag")
            .unwrap(),
        "archive" => tx.put(map(doc, &["plan"]), "status", "archived").unwrap(),
        _ => tx
            .put(map(doc, &["tasks", &task]), "status", "cancelled")
            .unwrap(),
    })
}

#[test]
fn a_plain_members_rewrites_are_refused_and_change_nothing() {
    for what in REWRITES {
        let mut scene = Scene::new();
        let change = forbidden_rewrite(&mut scene, what);
        let before = scene.owner_plan.view();
        let envelope = scene.member_envelope(&[change]);
        let outcome = scene.deliver_to_owner(vec![envelope]);
        assert_eq!(outcome.rejected.len(), 1, "{what}: refused");
        assert_eq!(outcome.applied_changes, 0, "{what}");
        assert_eq!(
            scene.owner_plan.view(),
            before,
            "{what}: the owner's plan is unchanged"
        );
    }
}

/// The ids a tampering case needs.
struct Ids {
    owner: MemberId,
    member: MemberId,
    task: String,
}

type Tamper = fn(&mut automerge::transaction::Transaction<'_>, &Automerge, &Ids);

#[test]
fn more_tampering_is_refused_too() {
    let cases: Vec<(&str, Tamper)> = vec![
        ("add a person", |tx, doc, _| {
            let members = map(doc, &["members"]);
            let m = tx
                .put_object(members, MemberId::random().as_str(), ObjType::Map)
                .unwrap();
            tx.put(&m, "display_name", "Mallory").unwrap();
        }),
        ("post as someone else", |tx, doc, ids| {
            let log = map(doc, &["log"]);
            let e = tx
                .put_object(log, "00000000000000000000000000000001", ObjType::Map)
                .unwrap();
            tx.put(&e, "by", ids.owner.as_str()).unwrap();
            tx.put(&e, "text", "Ik geef het op").unwrap();
        }),
        ("replace the tasks", |tx, _, _| {
            tx.put_object(ROOT, "tasks", ObjType::Map).unwrap();
        }),
        ("replace her task", |tx, doc, ids| {
            tx.put_object(map(doc, &["tasks"]), ids.task.as_str(), ObjType::Map)
                .unwrap();
        }),
        ("claim for someone else", |tx, doc, ids| {
            let claims = map(doc, &["tasks", &ids.task, "claims"]);
            tx.put(
                claims,
                ids.owner.as_str(),
                ScalarValue::Timestamp(T0.0 + 10_000),
            )
            .unwrap();
        }),
        ("a backdated claim", |tx, doc, ids| {
            let claims = map(doc, &["tasks", &ids.task, "claims"]);
            let month_ago = T0.0 - 30 * Timestamp::MILLIS_PER_DAY;
            tx.put(
                claims,
                ids.member.as_str(),
                ScalarValue::Timestamp(month_ago),
            )
            .unwrap();
        }),
        ("mark self professional", |tx, doc, ids| {
            let me = map(doc, &["members", ids.member.as_str()]);
            tx.put(me, "designation", "professional").unwrap();
        }),
        ("a list inside the plan", |tx, doc, _| {
            tx.put_object(map(doc, &["plan"]), "goals_list", ObjType::List)
                .unwrap();
        }),
        ("a key outside the layout", |tx, _, _| {
            tx.put(ROOT, "admin", "me").unwrap();
        }),
    ];
    for (what, write) in cases {
        let mut scene = Scene::new();
        let before = scene.owner_plan.view();
        let ids = Ids {
            owner: scene.owner.member.clone(),
            member: scene.member.member.clone(),
            task: scene.owners_task.to_string(),
        };
        let change = scene.tampered(|tx, doc| write(tx, doc, &ids));
        let envelope = scene.member_envelope(&[change]);
        let outcome = scene.deliver_to_owner(vec![envelope]);
        assert_eq!(outcome.rejected.len(), 1, "{what}: refused");
        assert_eq!(scene.owner_plan.view(), before, "{what}: nothing changed");
    }
}

#[test]
fn every_replica_gives_the_same_verdict_in_any_order() {
    let mut scene = Scene::new();
    // Honest work first, then a rewrite, then more honest work on top of the rewrite
    // (the modified client builds on its own forbidden change).
    let heads = scene.member_plan.heads();
    scene
        .member_plan
        .add_task(
            &scene.member.member,
            NewTask::simple("Boodschappen"),
            T0.plus_millis(5000),
        )
        .unwrap();
    let honest = scene.member_plan.own_changes_since(&heads);
    let rewrite = forbidden_rewrite(&mut scene, "archive");
    let heads = scene.member_plan.heads();
    scene
        .member_plan
        .post(
            &scene.member.member,
            kring_plan::plan::LogKind::Update,
            "Gedaan",
            T0.plus_millis(9000),
        )
        .unwrap();
    let after = scene.member_plan.own_changes_since(&heads);
    let envelopes = [
        scene.member_envelope(&honest),
        scene.member_envelope(&[rewrite]),
        scene.member_envelope(&after),
    ];
    let start = scene.owner_plan.export();
    let mut views: Vec<PlanView> = Vec::new();
    for order in [[0, 1, 2], [2, 1, 0], [1, 0, 2]] {
        let mut plan = CirclePlan::load(&start, scene.owner.device.actor_id()).unwrap();
        let trust = trust(&scene.circle, &scene.owner);
        let received: Vec<Received> = order
            .iter()
            .map(|&i| {
                let opened =
                    crate::envelope::open(&envelopes[i], trust.state(), trust.keys()).unwrap();
                Received::new(i as u64 + 1, envelopes[i].clone(), opened, &trust).unwrap()
            })
            .collect();
        let outcome = apply_received(&mut plan, &received);
        let view = plan.view();
        assert_eq!(
            view.plan.status,
            kring_plan::plan::PlanStatus::Draft,
            "{order:?}"
        );
        assert!(
            view.tasks.iter().any(|t| t.title == "Boodschappen"),
            "{order:?}: honest work kept"
        );
        assert!(
            view.log.is_empty(),
            "{order:?}: what builds on the rewrite is refused with it"
        );
        assert_eq!(outcome.rejected.len(), 2, "{order:?}");
        views.push(view);
    }
    assert!(
        views.windows(2).all(|w| w[0] == w[1]),
        "same plan on every replica"
    );
}

#[test]
fn the_honest_client_produces_changes_every_replica_accepts() {
    let mut scene = Scene::new();
    let heads = scene.member_plan.heads();
    let me = scene.member.member.clone();
    let task = scene
        .member_plan
        .add_task(&me, NewTask::simple("Koken"), T0.plus_millis(5000))
        .unwrap();
    let owners = scene.owners_task.clone();
    scene
        .member_plan
        .claim_task(&me, &owners, T0.plus_millis(6000))
        .unwrap();
    scene
        .member_plan
        .complete_task(&me, &owners, None, "Klaar", T0.plus_millis(7000))
        .unwrap();
    scene
        .member_plan
        .cancel_task(&me, &task, T0.plus_millis(8000))
        .unwrap();
    scene
        .member_plan
        .reopen_task(&me, &task, T0.plus_millis(8500))
        .unwrap();
    scene
        .member_plan
        .add_offer(&me, "Ik kan rijden", "di", T0.plus_millis(9000))
        .unwrap();
    scene
        .member_plan
        .approve_plan(&me, T0.plus_millis(9500))
        .unwrap();
    let changes = scene.member_plan.own_changes_since(&heads);
    let envelope = scene.member_envelope(&changes);
    let outcome = scene.deliver_to_owner(vec![envelope]);
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
    assert_eq!(scene.owner_plan.view(), scene.member_plan.view());
}

#[test]
fn a_snapshot_attests_what_was_applied_never_a_refused_envelope() {
    let mut scene = Scene::new();
    let joined = scene.member_sent[0].clone();
    let change = forbidden_rewrite(&mut scene, "question");
    let refused = scene.member_envelope(&[change]);
    assert_eq!(
        scene.deliver_to_owner(vec![refused.clone()]).rejected.len(),
        1
    );
    let owner_keys = scene.circle.keys(&scene.owner.device);
    let own = seal(
        &scene.owner.device,
        &scene.circle.state,
        &owner_keys,
        1,
        None,
        &scene.owner_plan.own_changes_since(&[]),
    )
    .unwrap()
    .as_bytes()
    .to_vec();
    let make = |attestations: &[Vec<u8>]| {
        crate::snapshot::make(
            &scene.owner.device,
            &scene.circle.state,
            &owner_keys,
            &scene.owner_plan,
            2,
            attestations,
        )
    };
    // The refused envelope's changes are not in the plan: it cannot vouch for it.
    assert!(make(&[own.clone(), refused]).is_err());
    let snapshot = make(&[own, joined]).unwrap();
    // The member's phone (and any new one) opens it to exactly the owner's plan.
    let opened = crate::snapshot::open(
        &snapshot,
        scene.circle.state.circle(),
        &scene.circle.state,
        &scene.circle.keys(&scene.member.device),
        automerge::ActorId::random(),
    )
    .unwrap();
    assert_eq!(opened.covers, 2);
    assert_eq!(opened.plan.view(), scene.owner_plan.view());
    assert_eq!(opened.heads.len(), 2, "one head per attested device");
}
