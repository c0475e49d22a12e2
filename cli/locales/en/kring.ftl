# What the kring CLI says, in English. Every message here has a twin in
# ../nl/kring.ftl with the same id and the same $arguments (a test checks).
# Placeables are names, dates and numbers; numbers choose the plural form.

## Words for stored values

relation-main_person = main person
relation-family = family
relation-friend = friend
relation-neighbour = neighbour
relation-professional = professional
relation-coordinator = coordinator
relation-other = other
designation-professional = professional
designation-coordinator = coordinator
plan-status-draft = draft
plan-status-presented = presented to the professionals
plan-status-accepted = accepted
plan-status-archived = closed
task-status-open = open
task-status-cancelled = cancelled
task-status-archived = archived
log-kind-update = update
log-kind-thanks = thanks
log-kind-concern = concern
log-kind-checkin = check-in
rsvp-yes = yes
rsvp-no = no
rsvp-maybe = maybe
capability-reader = reader
capability-member = member
capability-admin = admin
capability-owner = owner
language-nl = Dutch
language-en = English

## Table headers

col-id = id
col-task = task
col-when = when
col-who = who
col-status = status
col-checks = checks
col-name = name
col-relation = relation
col-role = role
col-mark = mark
col-devices = devices
col-joined = joined
col-circle = circle
col-urgent = urgent
col-attention = attention
col-on-time = on time (30 days)
col-last-activity = last activity
col-most-urgent = most urgent
col-what = what
col-date = date

## Tasks and turns

schedule-when-needed = when needed
schedule-due = by { $date }
schedule-weekly = { $every_weeks ->
    [1] weekly
   *[other] every { $every_weeks } weeks
  } from { $from }
schedule-weekly-until = { $every_weeks ->
    [1] weekly
   *[other] every { $every_weeks } weeks
  } from { $from } until { $until }
who-overbooked = {" "}(overbooked: { $others } also claimed)
state-done = done
state-open = open ({ $free } of { $slots } free)
state-taken = taken
turn-handed-over = handed over: needs someone
turn-free = { $free } free
times-in = (times in { $zone })
name-you = {" "}(you)
name-removed = {" "}(removed from the circle)
name-none = (no name in the plan)

## kring show

show-heading = { $circle } — plan for { $main_person } ({ $language }), status: { $status }
show-question = Question: { $question }
show-concerns = Concerns:
show-goals = Goals:
show-contingencies = If it goes differently:
condition-accepted = accepted
condition-not-accepted = not yet accepted
show-condition = { $text } [{ $id }] — { $set_by }, { $accepted }
show-conditions = Safety conditions:
show-next-evaluation = Next evaluation: { $date }
show-approved-by = Approved by: { $names }
show-tasks = Tasks
show-offer = { $by } offers: { $text } { $when } [{ $id }]
show-offers = Offers:
show-meeting = { $at } { $place } — { $agenda } [{ $id }], { $coming } coming
show-meetings = Meetings:
show-log = Latest messages:
show-people = People

## kring followup

followup-no-circles = No circles on this device yet.
followup-nothing = Nothing needs attention.
followup-to-do = To do, most urgent first
severity-urgent = URGENT
severity-attention = attention
days-ago = { $days ->
    [0] today
    [one] 1 day ago
   *[other] { $days } days ago
  }

## What an id can name (in "no task matches …")

thing-circle = circle
thing-device = device
thing-line = line
thing-meeting = meeting
thing-offer = offer
thing-member = member
thing-task = task
thing-condition = condition

## Done: what a command did

posted = Posted.
saved = Saved.
added = Added.
removed = Removed.
wrote = Wrote { $file }.
wrote-signed = Wrote { $file } (signed).
wrote-automerge = Wrote { $file } ({ $changes } changes).
wrote-calendar = Wrote { $file } (times in { $zone }).
merged = Merged { $changes ->
    [one] 1 new change
   *[other] { $changes } new changes
  }.
merged-signed = Merged { $changes ->
    [one] 1 new change
   *[other] { $changes } new changes
  } from a signed bundle; { $refused } refused.
imported = Added { $circle } as { $name }.
circle-created = Created circle { $circle } ({ $id }).
circle-timezone-set = Dates of this circle are now in { $zone }.
circle-line = { $mark } { $id }  { $circle } (you: { $me })
circle-archived = — closed, read only
circle-used = Now using { $id }.
circle-unnamed = circle { $id }
circle-close-confirm = Close { $circle } for everyone? The relay erases the plan and keeps only that the circle existed; nobody can sync or change anything any more. This device keeps an archive to read. Type "yes" to close:
circle-closed = { $circle } is closed. The relay keeps nothing of it; this device keeps an archive to read (erase it: `kring circle delete --local`).
circle-delete-confirm = Erase everything of { $circle } from this device: the plan, the keys and changes still waiting to be sent? This cannot be undone. Type "yes" to erase:
circle-deleted = { $circle } was erased from this device.
confirm-yes = yes
confirm-aborted = Nothing done.
no-circles = No circles yet.
member-added = Added { $name } ({ $id }).
member-role-set = { $name } is now { $role }.
task-added = Added task { $id }.
claimed = You claimed “{ $task }”{ $when }.
claimed-all = {""}
claimed-on = {" "}on { $date }
claimed-from = {" "}from { $date } on
handed-over = You gave your turn on { $date } back; the circle sees that it needs someone.
turn-moved = The turn of { $date } moves to { $to }.
turn-skipped = The turn of { $date } is left out.
unclaimed = Your place is free again.
done = Marked done. Thank you!
task-cancelled = Cancelled.
task-reopened = Open again.
question-set = Question set.
plan-status-set = The plan is now { $status }.
plan-approved = You approved the plan.
review-date-set = Next evaluation: { $date }.
review-date-none = No evaluation date planned.
review-recorded = Evaluation recorded.
condition-set = Safety condition { $id } set.
condition-accepted-now = Accepted.
offer-posted = Offer { $id } posted.
offer-withdrawn = Withdrawn.
meeting-planned = Meeting { $id } planned for { $date }.
meeting-cancelled = The meeting is called off.
rsvp-noted = Thanks, noted: { $answer }.

## kring whoami

whoami-member = You are { $name } ({ $relation }) in { $circle }
whoami-reader = You read { $circle } as a reader ({ $id })
whoami-removed = You were removed from { $circle }
whoami-not-member = You ({ $id }) are not a member of { $circle }

## Relay, invites, sync, status

identity = Device { $device }
    Data directory { $dir }
relay-set = Relay set to { $url }. `kring sync` puts the circle there.
push-registered = This device now gets a wake-up (without content) when others change the plan.
push-unregistered = This device gets no more wake-ups for this circle.
relay-none = No relay set: `kring relay set URL`.
member-added-invite = When { $name } has a phone: `kring invite --for { $name }` makes a link with which { $name } joins as this same person.
invite-for-hint = Is this link for { $names }? Then use `kring invite --for { $first }`, so that the person who joins is the one you added, not a second one. This link is for someone new.
invite-revoked = Invite { $id } taken back: nobody can join with it any more.
invites-none = No invites yet: `kring invite` makes one.
col-for = for
col-made-by = made by
col-until = until
invite-state-open = open
invite-state-used = used
invite-state-expired = expired
invite-state-revoked = taken back
invite-share = Share this link privately: it lets one person join as { $role } until { $date }.
joined = You joined { $circle } as { $name }.
joined-pending = You are in circle { $circle }. Its plan is not here yet{ $why }; `kring sync` fetches it.
synced = { $circle }: sent { $sent }, received { $received ->
    [one] 1 change
   *[other] { $received } changes
  }
synced-plan-arrived = ; the plan arrived
synced-from-snapshot = {" "}(from the main person's snapshot, then the { $after } changes after it)
synced-membership = ; { $count ->
    [one] 1 membership update
   *[other] { $count } membership updates
  }
synced-refused = ; { $count } refused
synced-waiting = ; { $count } waiting
watch-connected = Connected to { $relay }; watching { $circles ->
    [one] 1 circle
   *[other] { $circles } circles
  }. Ctrl-C to stop.
watch-offline = offline ({ $error }); trying again in { $seconds } s
status-local-only = local only (from a file; does not sync)
status-no-relay = no relay set
status-not-synced = not synced yet
status-online = online
status-offline = offline
status-error = sync failed
status-removed = removed from this circle
status-closed = closed: this device keeps an archive to read
status-erased = you were removed from this circle; what this device had of it was erased
status-closes-at = note: the relay closes this circle on { $date }, because nothing has changed for a long time
status-last-synced = , last synced { $date }
status-relay = relay { $url }
status-pending = { $count ->
    [one] 1 change waiting to be sent
   *[other] { $count } changes waiting to be sent
  }
status-waiting = , { $count ->
    [one] 1 received change waiting for others
   *[other] { $count } received changes waiting for others
  }
status-last-error = last error: { $error }
note-invite-not-synced = note: could not sync ({ $error }); run `kring sync` before the link is used
note-not-synced = note: could not sync { $circle } ({ $error })
note-circle-closed = The circle { $circle } is closed: the relay keeps nothing of it. This device keeps an archive; you can still read and export it, not change it. Erase it: `kring circle delete --local --circle { $id }`.
note-removed-erased = You were removed from the circle { $circle }. What this device had of it was erased.
note-closes-at = Note: the relay closes { $circle } on { $date }, because nothing has changed for a long time. Any new change keeps the circle open; once closed, the plan is gone from the relay.

## Devices and recovery

device-link-hint = On your other device: kring device add LINK. It becomes a device of yours in this circle, with what you may do here, once, until { $date } (UTC).
device-link-all-hint = On your other device: kring device add LINK… (all of them, until { $date } UTC).
device-added-pending = This device is in circle { $circle }. Its plan is not here yet; `kring sync` fetches it.
device-added = This device is now one of { $name }'s in { $circle }.
device-this = (this device)
device-recovery-code = (your recovery code)
device-added-at = added { $date }
device-removed = Removed device { $id }. The circle's key was rotated: it cannot read anything written from now on.
preview = { $what }: { $circle }{ $from }, through { $relay }.
preview-invite = An invite to join as { $role }
preview-device = A link that adds a device of { $name }'s
a-member = a member
preview-from = {" "}from { $name }
preview-expired = It expired on { $date } (UTC).
preview-valid = Valid until { $date } (UTC).
preview-already-here = {" "}This device is in that circle already.
recovery-code = Recovery code for this circle (shown only this once; write it down, keep it safe):
recovery-how = If you lose this device: kring recover --circle { $circle } --relay { $relay } --code "…"
recovery-warning = Whoever has these words can take your place in the circle. Never send them to anyone.
recovered = This device took your place in { $circle }; { $devices } old device(s) and the used code were removed, and the circle's key was rotated.
note-no-new-code = note: no new recovery code yet ({ $error }); run `kring recovery setup`

## Errors and hints

error-no-circle = no circle on this device yet: `kring circle create` or `kring import`
error-several-circles = several circles here: pick one with `kring circle use`
error-no-home = no home directory; pass --data-dir
error-no-relay-circle = no circle with a relay on this device: `kring relay set URL` first
error-give-id = give a { $what } id
error-no-match = no { $what } matches "{ $typed }"
error-several-match = "{ $typed }" matches several { $what }s; type more of the id
error-invite-for-joined = { $name } already takes part with a device. Another device for { $name } comes from { $name }'s own device: `kring device link`.
error-join-name = Say what the circle may call you: `--name` followed by your name.
error-several-members = several members are called "{ $name }"; use the id
error-no-member = no member "{ $name }"
error-date = cannot read the date "{ $date }"; use 2026-11-24, "2026-11-24 18:00", 24-11-2026, "morgen 17:00" or "di 18:00" (in { $zone })
error-time-in-gap = { $time } does not exist on { $date } in { $zone }: that night the clocks go forward. Choose another time. Do you mean { $kept }? Then type { $kept }.
error-end-date = cannot read the end date "{ $date }"
error-weekday = not a weekday: "{ $day }" (use mon, di, woensdag …)
error-no-turn = “{ $task }” has no turn on { $day }
error-give-bundle-file = give a file to write the signed bundle to
error-give-automerge-file = give a file to write the automerge document to
error-give-handover-file = give a file to write the hand-over to (--out)
error-give-handover-recipient = say who receives the plan: --to "Wijkteam Noord"
plan-handed-over = The plan is handed over to { $to }: { $file }. This is recorded in the plan.
family-time-closed = Family time is closed: everything in the plan is for the whole circle.
family-time-open-with-key = Family time is open. This device holds the family key: what the family writes now, only people who are not marked professional can read. Written in this family time: { $written }. Show it to the circle with: kring family-time present
family-time-open-professional = Family time is open. You are marked as a professional: what the family writes now is not for you, and this device holds no key for it.
family-time-open-key-out-of-date = Family time is open, but the family key is out of date (someone joined, left or was marked). The main person or an admin gives a fresh one: kring family-time rotate
family-time-open-without-key = Family time is open. This device does not hold the family key yet: sync, or ask the main person to run kring family-time rotate.
family-time-draft-shown = Family time: you see the plan as the family is writing it now. Professionals read it only when the main person presents it.
family-time-presented = The family's plan was presented on { $at }: the whole circle reads it, professionals too.
error-recover-circle = give the circle's id: kring recover --circle ID …
error-qr = cannot make a QR code of this: { $error }
error-file = cannot read or write { $path }: { $why }
hint-invite-reused = This link was already used. Ask whoever sent it for a new one.
hint-invite-expired = This link has expired. Ask whoever sent it for a new one.
hint-invite-revoked = This link no longer works. Ask whoever sent it for a new one.
hint-recovery-refused = Check the words, the circle id and the relay. A code works once; the newest one counts.
hint-archived = This circle is closed; this device only keeps an archive to read. Erase it: `kring circle delete --local`.

## kring demo

demo-relay-external = Using the relay at { $url }. It only ever holds signed, encrypted envelopes.
demo-relay-missing = Cannot start the relay program { $program }: { $error }. Build it with `cargo build --bin kring-server`, set KRING_SERVER to it, or pass --relay URL.
demo-relay-local = A relay starts on this computer at { $url }. It will only ever hold signed, encrypted envelopes.
demo-synced = { $name }'s phone synced: sent { $sent }, received { $received } change(s)
demo-join-no-plan = { $name } joined, but the plan did not arrive
demo-joins = { $name } ({ $relation }, { $role }) opens a { $length }-character kring://invite/… link and joins
demo-step-create = Sanne's circle meets. Sanne is the main person: she creates the circle on her phone.
demo-founded = circle { $circle } founded by Sanne's phone (device { $device })
demo-step-invite = Sanne invites her circle with links. Every phone makes its own keys; the links carry the circle's key.
demo-marloes = (Marloes, the debt counsellor, was invited by Fatima, the coordinator)
demo-members = on Sanne's phone the circle is: { $names }
demo-step-designate = Sanne stays in charge: she marks Fatima as the coordinator and Marloes as the professional. What people call themselves grants nothing.
demo-step-plan = Together they write the plan: the question, a goal, what to do if it goes differently, and tasks.
demo-step-fetch = Jan and Piet fetch the plan. Piet's app will not let him change Sanne's question: it is hers.
demo-piet-tries = Piet tries: { $error }
demo-expected-refusal = the demo expected Piet to be refused
demo-modified-app = (a modified app that writes it anyway is refused by every other phone: docs/permissions.md)
demo-step-offline = Offline, Jan and Piet both claim the only place on the ride.
demo-claims = Jan claims first, Piet a minute later; neither phone knows of the other's claim
demo-outboxes = the claims wait in the outboxes: Jan { $jan } change(s), Piet { $piet }
demo-step-online = Back online, both phones sync. The conflict resolves the same way everywhere.
demo-resolved = both phones show the same plan: { $same }; the ride goes to { $winner } (the earlier claim); overbooked: { $overbooked }
demo-nobody = nobody
demo-yes = yes
demo-no-upper = NO
demo-step-offer = Piet sees the ride is taken, gives his place back and offers to drive on Tuesdays instead.
demo-step-condition = The professional sets a safety condition; Sanne accepts it and approves the plan.
demo-step-remove = Piet moves away. Sanne removes him from the circle: the circle gets a new key he does not have.
demo-removed = removal in the membership log; key epoch now { $epoch }, wrapped for every remaining phone
demo-piet-synced = Piet's phone synced (unexpected!)
demo-piet-refused = Piet's phone tries to sync: refused ({ $error })
demo-piet-keys = Piet's phone holds keys for epoch(s) { $epochs }, not { $epoch }: Jan's new post is unreadable to him
demo-step-same = Everyone else syncs and sees exactly the same plan.
demo-identical = Sanne, Fatima, Jan and Marloes hold identical plans: { $same }
demo-step-relay = What does the relay hold? Its database has no names and no task titles, only ciphertext.
demo-in-relay-db = { $needle } in the relay's database: { $found }
demo-found = FOUND
demo-no = no
demo-pass-relay-db = (pass --relay-db to look inside the relay's database)
demo-step-show = Sanne's phone now shows the whole plan:
demo-stores = The phones' stores are in { $dir } ({ $kept }).
demo-stores-removed = removed when the demo ends; keep them with --keep DIR
demo-stores-kept = kept

## kring reminders, kring news
reminders-heading = Your reminders for the next { $days ->
    [one] day
   *[other] { $days } days
}:
reminders-none = No reminders for the next { $days ->
    [one] day
   *[other] { $days } days
}.
reminders-set = On this device: muted { $mute }, weekly digest { $digest }, quiet hours { $from } to { $until }.
word-on = on
word-off = off
error-quiet-hours = Write quiet hours as 22:00-08:00, not as { $typed }.
news-none = Nothing new since you last looked.

## What core's errors say (cli/src/core_text.rs)
core-invalid-choice = “{ $value }” does not work here; choose from: { $choices }.
core-network-kept = What you changed is safe on this device and goes along with the next sync.
core-daily-quota = This device has sent as much as the relay takes in one day. Tomorrow it can send again; nothing is lost.
core-corrupt-store = The storage on this device is damaged. Nothing was changed; please report this.
core-already-exists = That is already there.
core-circle-here = This circle is already on this device.
core-wrong-circle = This belongs to another circle.
core-link-incomplete = This link is not complete or has been changed. Ask for a new one.
core-newer-version = This was made by a newer version of Kring. Update Kring and try again.
core-damaged = What came in is damaged or not from Kring. Nothing was changed.
core-unauthorized = This device may not do that in this circle ({ $why }).
core-owner-protected = Only the main person herself can change her place or her devices.
core-out-of-step = This device and the relay are out of step. Run `kring sync` and try again.
core-clock = This device's clock does not agree with the relay's. Set the right time and try again.
core-no-key = This device does not have the key for this (yet). Run `kring sync`; if that does not help, it was not meant for you.
core-unauthenticated = The relay did not recognise this device. Try again; if it keeps happening, please report it.
core-circle-exists = This circle is already on the relay.
core-timeout = That took too long. Try again.
core-admission-required = This relay only makes circles for people with an admission pass. Ask the relay's operator (often your municipality or care organisation) for one, put it in KRING_ADMISSION and run `kring sync` again.
core-push-subscription = The relay does not take this push subscription. Subscribe again in the browser or app.
core-recovery-word-count = A recovery code has { $expected } words; this has { $found }.
core-recovery-unknown-word = Word { $position } is not a recovery word. Check that word on your paper.
core-recovery-checksum = The words do not belong together: one is mistyped into another word, or two are swapped. Check them on your paper.
kind-invalid-input = That does not work: check what you typed.
kind-not-found = That is not here.
kind-not-allowed = That is not allowed in this circle.
kind-task-full = All places of this task are already taken.
kind-invalid-transition = The plan cannot go to that status now.
kind-recovery-refused = This recovery code does not work.
value-capability = “{ $value }” is not a role; choose from: member, reader, admin.
value-date = “{ $value }” is not a date Kring understands; write 24-11-2026 or "24-11-2026 18:00".
value-time-zone = “{ $value }” is not a time zone; write it like Europe/Amsterdam.
value-repeat-rule = This repeat rule does not work: “{ $value }”.
value-time-of-day = “{ $value }” is not a time of day; write it like 22:00.
value-every-how-many-weeks = “{ $value }” does not work as every how many weeks; write a number from 1 to 52.
value-occurrence = The task has no turn on { $value }. `kring task occurrences` shows its dates.
value-export-format = “{ $value }” is not a format; choose from md, html, fhir, pdf.
value-relay-URL = “{ $value }” is not a relay address; it starts with https:// (or http:// on your own computer).
value-secret-name = This device's secret store does not take the name “{ $value }”.
value-sequence-number = This number is too large.
value-request = The relay could not be asked this. Please report it.
file-not-found = it does not exist
file-permission = no permission
file-exists = it already exists
file-other = the file system refused
core-invalid-id = “{ $value }” is not a valid id.
core-invalid-value = “{ $value }” does not work here.
core-empty-text = Fill in { $field }: it must not be empty.
core-text-too-long = { $field } is too long: { $len } characters, at most { $max }.
core-invalid-slots = A task needs at least 1 person.
core-dates-out-of-order = The dates are in the wrong order ({ $why }).
core-unknown-member = That member is not in this circle. `kring member list` shows who is.
core-unknown-task = There is no task { $id } in this circle.
core-unknown-entry = This is not (or no longer) in the plan: { $id }.
core-unknown-circle = That circle is not on this device. `kring circle list` shows the ones that are.
core-not-a-member = That person or device is not (or no longer) in this circle.
core-not-allowed = That is not allowed in this circle ({ $why }).
core-task-not-open = This task is cancelled or archived.
core-task-full = All places of this task are already taken ({ $slots }).
core-already-claimed = You already do this task.
core-not-claimed = You do not do this task, so you cannot give it back.
core-already-done = This task is already done.
core-invalid-transition = The plan cannot go from “{ $from }” to “{ $to }”.
core-approval-missing = The main person has to approve the plan first.
core-removed = Your phone was removed from this circle.
core-read-only = You may read this circle, not change it.
core-invite-expired = This invite has expired.
core-invite-used = This invite was already used.
core-invite-revoked = This invite no longer works.
core-recovery-refused = This recovery code does not work ({ $why }).
core-network = The relay cannot be reached now. Try again later.
core-rate-limited = The relay is busy. Try again in { $seconds } seconds.
core-no-relay = This circle has no relay yet: first `kring relay set URL`.
core-local-only = This circle came from a file and does not sync; exchange files with `kring export` and `kring merge`.
core-plan-not-available = The plan is not on the relay yet; sync again later.
core-archived = This circle is closed. This device keeps it to read only.
core-circle-closed = This circle was closed by its main person; the relay keeps nothing of it.
core-quota = The relay takes no more for this circle: the limit its operator set is reached. The main person can ask the operator for more room.
core-busy = Someone else changed the circle's members at the same moment. Nothing was changed; try again.
core-family-time-already-open = Family time is already open.
core-family-time-not-open = Family time is not open.
core-family-time-out-of-date = The family key is out of date (someone joined, left or was marked). The main person or an admin gives a fresh one: kring family-time rotate
core-family-time-no-key = This device holds no key for what the family writes.
core-family-time-present-not-allowed = Only the main person presents the family's plan.
core-family-time-nothing-written = Nothing has been written in this family time yet, so there is nothing to present. To end family time anyway: kring family-time close
core-family-time-handover = Family time is open. First present the family's plan (kring family-time present) or close family time, then hand the plan over.
core-family-time-already-presented = What the family wrote has already been presented. For a next meeting, open family time again: kring family-time open
core-family-time-not-allowed = Only the main person or an admin opens and closes family time and marks professionals.
core-rejected = Refused: what came in did not match the circle's rules or signatures. Nothing was changed.
core-storage = Something went wrong with this device's storage. Nothing was changed.
core-secret-store = This device's keys cannot be read.
core-invalid-document = This file is not a plan of this circle.
core-relay-refused = The relay refused this. Nothing was changed.
core-internal = Something went wrong inside Kring. Nothing was changed. Please report it.
refusal-reader = You may read this circle, not change it.
refusal-change-circle = Only the main person changes the circle's name and language.
refusal-add-person = Only the main person or an admin adds people.
refusal-edit-member = Only the main person or an admin changes how someone else is shown.
refusal-designate = Only the main person or an admin marks professionals and coordinators.
refusal-remove-main-person = The main person cannot be removed from their own circle.
refusal-remove-member = Only the main person or an admin removes people.
refusal-set-question = Only the main person sets the plan's question.
refusal-set-status = Only the main person changes the plan's status.
refusal-approve = You approve the plan only for yourself.
refusal-add-list-item = Only the main person or an admin adds goals and plans for when it goes differently.
refusal-remove-list-item = Only who wrote it, the main person or an admin removes a line of the plan.
refusal-review = Only the main person or an admin plans and records evaluations.
refusal-handover = Only the main person or an admin hands the plan over to professionals.
refusal-edit-task = Only who made the task, the main person or an admin changes or cancels it.
refusal-claim = You take and give back places only for yourself.
refusal-complete = Only someone doing the task, its checker or the main person marks it done.
refusal-set-condition = Only a professional sets safety conditions.
refusal-accept-condition = Only the main person accepts safety conditions.
refusal-withdraw-offer = Only who made an offer withdraws it.
refusal-edit-meeting = Only who planned the meeting, the main person or an admin changes it.
refusal-rsvp = You answer only for yourself.
field-title = a title
field-circle-name = a name for the circle
field-display-name = a name
field-condition = the condition
field-message = a message
field-offer = the offer
field-summary = a summary
field-text = a text
field-date = date
field-time-zone = time zone
field-repeat-rule = repeat rule
field-time-of-day = time of day
field-capability = role
field-relay-URL = relay address

## The command line parser (main.rs)
parse-unknown-argument = kring does not know { $what }. `kring --help` shows what it can do.
parse-unknown-command = kring has no command { $what }. `kring --help` shows the commands.
parse-invalid-value = “{ $value }” does not work for { $what }. `kring --help` says what does.
parse-missing = Something is missing: { $what }. `kring --help` says what to give.
parse-missing-command = Say what kring should do. `kring --help` shows the commands.
parse-other = kring did not understand this command. `kring --help` shows how to write it.

## Core's reasons outside the permit table (core_text::REASONS)
reason-invite-not-device = An invite is for a new person, not for another device. Another device comes with `kring device link` on your own device.
reason-device-link-hour = A device link works for at most an hour.
reason-device-link-not-person = A device link is for another device of the same person, not for someone new. For someone new: `kring invite`.
reason-snapshot = Only the main person's devices make snapshots of her plan.
reason-one-main-person = A circle has exactly one main person.
reason-watch-one-relay = Kring follows the circles of one relay at a time; choose one with --circle.
reason-watch-none = None of the circles can be followed: they have no relay, are closed, or you are no longer in them.
reason-watch-no-circle = There is no circle to follow.
reason-link-is-invite = This is an invite for a new person: join with `kring join`.
reason-unsigned-merge = This circle syncs through its relay with signed changes; an unsigned plan file cannot be merged into it (use `kring sync`).
reason-other-relay = This circle is already on another relay; moving a circle is not possible.
reason-fewer-places = More people already take part than there would be places; someone must give the task back first.
reason-turns-need-series = Turns need a task that repeats in the circle's time (change its schedule first).
reason-occurrences-need-series = Only a series in the circle's time has dates to change.
reason-founds = Only the main person starts the circle's plan.
reason-device-cut-off = This device sent a change the plan's rules refuse; what it sends after that is no longer taken.
reason-builds-on-refused = This change builds on a change that was refused.
