# Wat de kring-CLI zegt, in het Nederlands (B1: korte zinnen, gewone woorden,
# zoals de exports). Elk bericht heeft een tweeling in ../en/kring.ftl met
# dezelfde id en dezelfde $argumenten (een test controleert dat).

## Woorden voor opgeslagen waarden

relation-main_person = hoofdpersoon
relation-family = familie
relation-friend = vriend of vriendin
relation-neighbour = buurman of buurvrouw
relation-professional = hulpverlener
relation-coordinator = coördinator
relation-other = anders
designation-professional = hulpverlener
designation-coordinator = coördinator
plan-status-draft = concept
plan-status-presented = voorgelegd aan de hulpverleners
plan-status-accepted = goedgekeurd
plan-status-archived = afgesloten
task-status-open = open
task-status-cancelled = gaat niet door
task-status-archived = opgeborgen
log-kind-update = nieuws
log-kind-thanks = bedankt
log-kind-concern = zorg
log-kind-checkin = even gevraagd
rsvp-yes = ja
rsvp-no = nee
rsvp-maybe = misschien
capability-reader = lezer
capability-member = lid
capability-admin = beheerder
capability-owner = eigenaar
language-nl = Nederlands
language-en = Engels

## Kopjes van tabellen

col-id = id
col-task = taak
col-when = wanneer
col-who = wie
col-status = status
col-checks = controleert
col-name = naam
col-relation = relatie
col-role = rol
col-mark = aangewezen als
col-devices = apparaten
col-joined = erbij sinds
col-circle = kring
col-urgent = dringend
col-attention = aandacht
col-on-time = op tijd (30 dagen)
col-last-activity = laatst actief
col-most-urgent = het meest dringend
col-what = wat
col-date = datum

## Taken en beurten

schedule-when-needed = als het nodig is
schedule-due = uiterlijk { $date }
schedule-weekly = { $every_weeks ->
    [1] elke week
   *[other] om de { $every_weeks } weken
  } vanaf { $from }
schedule-weekly-until = { $every_weeks ->
    [1] elke week
   *[other] om de { $every_weeks } weken
  } vanaf { $from } tot en met { $until }
who-overbooked = {" "}(te veel mensen: { $others } wilde dit ook doen)
state-done = klaar
state-open = open ({ $free } van { $slots } vrij)
state-taken = geregeld
turn-handed-over = teruggegeven: er is iemand nodig
turn-free = { $free } vrij
times-in = (tijden in { $zone })
name-you = {" "}(jij)
name-removed = {" "}(niet meer in de kring)
name-none = (geen naam in het plan)

## kring show

show-heading = { $circle } — plan voor { $main_person } ({ $language }), status: { $status }
show-question = Vraag: { $question }
show-concerns = Waar maken we ons zorgen over?
show-goals = Wat willen we bereiken?
show-contingencies = Als het anders gaat:
condition-accepted = akkoord
condition-not-accepted = nog niet akkoord
show-condition = { $text } [{ $id }] — gevraagd door { $set_by }, { $accepted }
show-conditions = Wat moet er gebeuren voor de veiligheid?
show-next-evaluation = Volgende evaluatie: { $date }
show-approved-by = Eens met het plan: { $names }
show-tasks = Wie doet wat?
show-offer = { $by } biedt aan: { $text } { $when } [{ $id }]
show-offers = Wie biedt wat aan?
show-meeting = { $at } { $place } — { $agenda } [{ $id }], { $coming } komen
show-meetings = Bijeenkomsten:
show-log = Laatste berichten:
show-people = Wie doen er mee?

## kring followup

followup-no-circles = Er staat nog geen kring op dit apparaat.
followup-nothing = Niets vraagt nu aandacht.
followup-to-do = Te doen, het meest dringend eerst
severity-urgent = DRINGEND
severity-attention = aandacht
days-ago = { $days ->
    [0] vandaag
    [one] 1 dag geleden
   *[other] { $days } dagen geleden
  }

## Wat een id kan zijn (in "geen taak met …")

thing-circle = kring
thing-device = apparaat
thing-line = regel
thing-meeting = bijeenkomst
thing-offer = aanbod
thing-member = lid
thing-task = taak
thing-condition = veiligheidsafspraak

## Klaar: wat een opdracht deed

posted = Geplaatst.
saved = Opgeslagen.
added = Toegevoegd.
removed = Weggehaald.
wrote = { $file } is gemaakt.
wrote-signed = { $file } is gemaakt (ondertekend).
wrote-automerge = { $file } is gemaakt ({ $changes } wijzigingen).
wrote-calendar = { $file } is gemaakt (tijden in { $zone }).
merged = { $changes ->
    [one] 1 nieuwe wijziging
   *[other] { $changes } nieuwe wijzigingen
  } samengevoegd.
merged-signed = { $changes ->
    [one] 1 nieuwe wijziging
   *[other] { $changes } nieuwe wijzigingen
  } uit een ondertekend bestand samengevoegd; { $refused } geweigerd.
imported = { $circle } is toegevoegd. Je bent { $name }.
circle-created = { $circle } is gemaakt ({ $id }).
circle-timezone-set = De tijden van deze kring zijn nu in { $zone }.
circle-line = { $mark } { $id }  { $circle } (jij: { $me })
circle-archived = — gesloten, alleen om te lezen
circle-used = Je werkt nu in { $id }.
circle-unnamed = kring { $id }
circle-close-confirm = { $circle } voor iedereen sluiten? De relay wist het plan en bewaart alleen dat de kring bestond; niemand kan nog synchroniseren of iets veranderen. Dit apparaat houdt een archief om te lezen. Typ "ja" om te sluiten:
circle-closed = { $circle } is gesloten. De relay bewaart er niets meer van; dit apparaat houdt een archief om te lezen (wissen: `kring circle delete --local`).
circle-delete-confirm = Alles van { $circle } van dit apparaat wissen: het plan, de sleutels en wijzigingen die nog verstuurd moesten worden? Dat kan niet ongedaan worden. Typ "ja" om te wissen:
circle-deleted = { $circle } is van dit apparaat gewist.
confirm-yes = ja
confirm-aborted = Niets gedaan.
no-circles = Nog geen kringen.
member-added = { $name } is toegevoegd ({ $id }).
member-role-set = { $name } is nu { $role }.
task-added = Taak { $id } is toegevoegd.
claimed = Jij doet “{ $task }”{ $when }.
claimed-all = {""}
claimed-on = {" "}op { $date }
claimed-from = {" "}vanaf { $date }
handed-over = Je hebt je beurt op { $date } teruggegeven. De kring ziet dat er iemand nodig is.
turn-moved = De beurt van { $date } gaat naar { $to }.
turn-skipped = De beurt van { $date } gaat niet door.
unclaimed = Je plek is weer vrij.
done = Klaar. Dank je wel!
task-cancelled = Deze taak gaat niet door.
task-reopened = Deze taak is weer open.
question-set = De vraag is opgeslagen.
plan-status-set = Het plan is nu: { $status }.
plan-approved = Je bent het eens met het plan.
review-date-set = Volgende evaluatie: { $date }.
review-date-none = Er is geen datum voor de evaluatie.
review-recorded = De evaluatie is opgeslagen.
condition-set = Veiligheidsafspraak { $id } is gemaakt.
condition-accepted-now = Je bent akkoord.
offer-posted = Aanbod { $id } is geplaatst.
offer-withdrawn = Het aanbod is ingetrokken.
meeting-planned = Bijeenkomst { $id } is gepland op { $date }.
meeting-cancelled = De bijeenkomst gaat niet door.
rsvp-noted = Dank je, genoteerd: { $answer }.

## kring whoami

whoami-member = Je bent { $name } ({ $relation }) in { $circle }
whoami-reader = Je leest { $circle } mee als lezer ({ $id })
whoami-removed = Je bent uit { $circle } gehaald
whoami-not-member = Je ({ $id }) bent geen lid van { $circle }

## Relay, uitnodigingen, synchroniseren, status

identity = Apparaat { $device }
    Map met gegevens { $dir }
relay-set = De relay is nu { $url }. Met `kring sync` komt de kring daar.
push-registered = Dit apparaat krijgt nu een seintje (zonder inhoud) als anderen het plan veranderen.
push-unregistered = Dit apparaat krijgt geen seintjes meer voor deze kring.
relay-none = Er is geen relay: `kring relay set URL`.
member-added-invite = Heeft { $name } een telefoon? `kring invite --for { $name }` maakt een link waarmee { $name } meedoet als deze zelfde persoon.
invite-for-hint = Is deze link voor { $names }? Gebruik dan `kring invite --for { $first }`: wie meedoet, is dan de persoon die je al had toegevoegd, niet een tweede. Deze link is voor iemand nieuws.
invite-revoked = Uitnodiging { $id } ingetrokken: niemand kan er nog mee meedoen.
invites-none = Nog geen uitnodigingen: `kring invite` maakt er een.
col-for = voor
col-made-by = gemaakt door
col-until = tot
invite-state-open = open
invite-state-used = gebruikt
invite-state-expired = verlopen
invite-state-revoked = ingetrokken
invite-share = Deel deze link alleen met die ene persoon: die kan meedoen als { $role } tot { $date }.
joined = Je doet mee in { $circle } als { $name }.
joined-pending = Je zit in kring { $circle }. Het plan is er nog niet{ $why }; `kring sync` haalt het op.
synced = { $circle }: { $sent } verstuurd, { $received ->
    [one] 1 wijziging
   *[other] { $received } wijzigingen
  } ontvangen
synced-plan-arrived = ; het plan is binnen
synced-from-snapshot = {" "}(vanaf de momentopname van de hoofdpersoon, daarna de { $after } wijzigingen erna)
synced-membership = ; { $count ->
    [one] 1 wijziging
   *[other] { $count } wijzigingen
  } in wie er meedoet
synced-refused = ; { $count } geweigerd
synced-waiting = ; { $count } wachten nog
watch-connected = Verbonden met { $relay }; { $circles ->
    [one] 1 kring wordt
   *[other] { $circles } kringen worden
  } gevolgd. Stoppen: Ctrl-C.
watch-offline = geen verbinding ({ $error }); over { $seconds } s opnieuw
status-local-only = alleen hier (uit een bestand; synchroniseert niet)
status-no-relay = geen relay ingesteld
status-not-synced = nog niet gesynchroniseerd
status-online = online
status-offline = geen verbinding
status-error = synchroniseren mislukt
status-removed = niet meer in deze kring
status-closed = gesloten: dit apparaat houdt een archief om te lezen
status-erased = je bent uit deze kring gehaald; wat dit apparaat ervan had, is gewist
status-closes-at = let op: de relay sluit deze kring op { $date }, omdat er lang niets veranderd is
status-last-synced = , laatst gesynchroniseerd { $date }
status-relay = relay { $url }
status-pending = { $count ->
    [one] 1 wijziging wacht
   *[other] { $count } wijzigingen wachten
  } om verstuurd te worden
status-waiting = , { $count ->
    [one] 1 ontvangen wijziging wacht
   *[other] { $count } ontvangen wijzigingen wachten
  } op anderen
status-last-error = laatste fout: { $error }
note-invite-not-synced = let op: synchroniseren lukte niet ({ $error }); doe `kring sync` voordat de link wordt gebruikt
note-not-synced = let op: { $circle } synchroniseren lukte niet ({ $error })
note-circle-closed = De kring { $circle } is gesloten: de relay bewaart er niets meer van. Dit apparaat houdt een archief; lezen en exporteren kan nog, veranderen niet. Wissen: `kring circle delete --local --circle { $id }`.
note-removed-erased = Je bent uit de kring { $circle } gehaald. Wat dit apparaat ervan had, is gewist.
note-closes-at = Let op: de relay sluit { $circle } op { $date }, omdat er lang niets veranderd is. Elke nieuwe wijziging houdt de kring open; na het sluiten is het plan weg van de relay.

## Apparaten en herstel

device-link-hint = Op je andere apparaat: kring device add LINK. Dat wordt dan ook jouw apparaat in deze kring, met wat jij hier mag. De link werkt één keer, tot { $date } (UTC).
device-link-all-hint = Op je andere apparaat: kring device add LINK… (allemaal, tot { $date } UTC).
device-added-pending = Dit apparaat zit in kring { $circle }. Het plan is er nog niet; `kring sync` haalt het op.
device-added = Dit apparaat is nu een apparaat van { $name } in { $circle }.
device-this = (dit apparaat)
device-recovery-code = (je herstelcode)
device-added-at = toegevoegd { $date }
device-removed = Apparaat { $id } is weggehaald. De sleutel van de kring is vernieuwd: het kan niets meer lezen van wat er vanaf nu komt.
preview = { $what }: { $circle }{ $from }, via { $relay }.
preview-invite = Een uitnodiging om mee te doen als { $role }
preview-device = Een link die een apparaat van { $name } toevoegt
a-member = een lid
preview-from = {" "}van { $name }
preview-expired = De link werkte tot { $date } (UTC).
preview-valid = De link werkt tot { $date } (UTC).
preview-already-here = {" "}Dit apparaat zit al in die kring.
recovery-code = Herstelcode voor deze kring (je ziet hem maar één keer; schrijf hem op en bewaar hem goed):
recovery-how = Ben je dit apparaat kwijt? Doe dan: kring recover --circle { $circle } --relay { $relay } --code "…"
recovery-warning = Wie deze woorden heeft, kan jouw plek in de kring innemen. Stuur ze nooit naar iemand.
recovered = Dit apparaat heeft jouw plek in { $circle } overgenomen. { $devices } oud(e) apparaat/apparaten en de gebruikte code zijn weggehaald, en de sleutel van de kring is vernieuwd.
note-no-new-code = let op: nog geen nieuwe herstelcode ({ $error }); doe `kring recovery setup`

## Fouten en tips

error-no-circle = er staat nog geen kring op dit apparaat: `kring circle create` of `kring import`
error-several-circles = er zijn hier meer kringen: kies er één met `kring circle use`
error-no-home = geen thuismap; geef --data-dir op
error-no-relay-circle = geen kring met een relay op dit apparaat: eerst `kring relay set URL`
error-give-id = geef de id van een { $what }
error-no-match = geen { $what } gevonden met "{ $typed }"
error-several-match = "{ $typed }" past bij meer dan één { $what }; typ meer van de id
error-invite-for-joined = { $name } doet al mee met een apparaat. Een ander apparaat voor { $name } komt van het eigen apparaat van { $name }: `kring device link`.
error-join-name = Zeg hoe de kring je mag noemen: `--name` met je naam erachter.
error-several-members = meer leden heten "{ $name }"; gebruik de id
error-no-member = geen lid "{ $name }"
error-date = deze datum snap ik niet: "{ $date }"; schrijf 24-11-2026, "24-11-2026 18:00", 2026-11-24, "morgen 17:00" of "di 18:00" (tijd in { $zone })
error-time-in-gap = { $time } bestaat niet op { $date } in { $zone }: die nacht gaat de klok vooruit. Kies een andere tijd. Bedoel je { $kept }? Typ dan { $kept }.
error-end-date = deze einddatum snap ik niet: "{ $date }"
error-weekday = geen dag van de week: "{ $day }" (schrijf ma, di, woensdag …)
error-no-turn = “{ $task }” heeft geen beurt op { $day }
error-give-bundle-file = geef een bestand op voor het ondertekende bestand
error-give-automerge-file = geef een bestand op voor het automerge-document
error-give-handover-file = geef een bestand op voor de overdracht (--out)
error-give-handover-recipient = zeg wie het plan krijgt: --to "Wijkteam Noord"
plan-handed-over = Het plan is overgedragen aan { $to }: { $file }. Dat staat nu in het plan.
family-time-closed = De familietijd is dicht: alles in het plan is voor de hele kring.
family-time-open-with-key = De familietijd is open. Dit apparaat heeft de familiesleutel: wat de familie nu schrijft, kunnen alleen mensen lezen die geen hulpverlener zijn. Geschreven in deze familietijd: { $written }. Laat het de kring zien met: kring family-time present
family-time-open-professional = De familietijd is open. Je staat in de kring als hulpverlener: wat de familie nu schrijft is niet voor jou, en dit apparaat heeft er geen sleutel voor.
family-time-open-key-out-of-date = De familietijd is open, maar de familiesleutel is verouderd (er kwam iemand bij, ging iemand weg of werd iemand hulpverlener). De hoofdpersoon of een beheerder maakt een nieuwe: kring family-time rotate
family-time-open-without-key = De familietijd is open. Dit apparaat heeft de familiesleutel nog niet: synchroniseer, of vraag de hoofdpersoon om kring family-time rotate.
family-time-draft-shown = Familietijd: je ziet het plan zoals de familie het nu schrijft. Hulpverleners lezen het pas als de hoofdpersoon het presenteert.
family-time-presented = Het plan van de familie is gepresenteerd op { $at }: de hele kring leest het, ook de hulpverleners.
error-recover-circle = geef de id van de kring: kring recover --circle ID …
error-qr = hiervan kan geen QR-code gemaakt worden: { $error }
error-file = kan { $path } niet lezen of schrijven: { $why }
hint-invite-reused = Deze link is al gebruikt. Vraag wie hem stuurde om een nieuwe.
hint-invite-expired = Deze link werkt niet meer, hij is te oud. Vraag wie hem stuurde om een nieuwe.
hint-invite-revoked = Deze link werkt niet meer. Vraag wie hem stuurde om een nieuwe.
hint-recovery-refused = Kijk de woorden, de id van de kring en de relay na. Een code werkt één keer; de nieuwste telt.
hint-archived = Deze kring is gesloten; dit apparaat houdt alleen een archief om te lezen. Wissen: `kring circle delete --local`.

## kring demo

demo-relay-external = We gebruiken de relay op { $url }. Die bewaart alleen ondertekende, versleutelde enveloppen.
demo-relay-missing = Het relay-programma { $program } start niet: { $error }. Bouw het met `cargo build --bin kring-server`, zet KRING_SERVER erop, of geef --relay URL.
demo-relay-local = Op deze computer start een relay op { $url }. Die bewaart alleen ondertekende, versleutelde enveloppen.
demo-synced = De telefoon van { $name } is gesynchroniseerd: { $sent } verstuurd, { $received } wijziging(en) ontvangen
demo-join-no-plan = { $name } doet mee, maar het plan is niet aangekomen
demo-joins = { $name } ({ $relation }, { $role }) opent een kring://invite/…-link van { $length } tekens en doet mee
demo-step-create = De kring van Sanne komt bij elkaar. Sanne is de hoofdpersoon: zij maakt de kring op haar telefoon.
demo-founded = kring { $circle } gemaakt door de telefoon van Sanne (apparaat { $device })
demo-step-invite = Sanne nodigt haar kring uit met links. Elke telefoon maakt zijn eigen sleutels; de links brengen de sleutel van de kring mee.
demo-marloes = (Marloes, de schuldhulpverlener, is uitgenodigd door Fatima, de coördinator)
demo-members = op de telefoon van Sanne is de kring: { $names }
demo-step-designate = Sanne blijft de baas: zij maakt Fatima coördinator en Marloes hulpverlener. Hoe mensen zichzelf noemen, geeft geen rechten.
demo-step-plan = Samen schrijven ze het plan: de vraag, een doel, wat te doen als het anders gaat, en taken.
demo-step-fetch = Jan en Piet halen het plan op. De app van Piet laat hem de vraag van Sanne niet veranderen: die is van haar.
demo-piet-tries = Piet probeert het: { $error }
demo-expected-refusal = de demo verwachtte dat Piet geweigerd werd
demo-modified-app = (een aangepaste app die het toch schrijft, wordt door elke andere telefoon geweigerd: docs/permissions.md)
demo-step-offline = Zonder verbinding willen Jan en Piet allebei de enige plek bij het rijden.
demo-claims = Jan is eerst, Piet een minuut later; geen van de telefoons weet van de ander
demo-outboxes = de aanmeldingen wachten om verstuurd te worden: Jan { $jan } wijziging(en), Piet { $piet }
demo-step-online = Weer online synchroniseren beide telefoons. Overal komt er hetzelfde uit.
demo-resolved = beide telefoons tonen hetzelfde plan: { $same }; het rijden gaat naar { $winner } (wie eerst was); te veel mensen: { $overbooked }
demo-nobody = niemand
demo-yes = ja
demo-no-upper = NEE
demo-step-offer = Piet ziet dat het rijden geregeld is, geeft zijn plek terug en biedt aan om op dinsdag te rijden.
demo-step-condition = De hulpverlener maakt een veiligheidsafspraak; Sanne is akkoord en keurt het plan goed.
demo-step-remove = Piet gaat verhuizen. Sanne haalt hem uit de kring: de kring krijgt een nieuwe sleutel die hij niet heeft.
demo-removed = weggehaald in het ledenlogboek; sleutelversie nu { $epoch }, ingepakt voor elke telefoon die overblijft
demo-piet-synced = De telefoon van Piet is gesynchroniseerd (onverwacht!)
demo-piet-refused = De telefoon van Piet probeert te synchroniseren: geweigerd ({ $error })
demo-piet-keys = De telefoon van Piet heeft sleutels voor versie(s) { $epochs }, niet { $epoch }: het nieuwe bericht van Jan kan hij niet lezen
demo-step-same = Alle anderen synchroniseren en zien precies hetzelfde plan.
demo-identical = Sanne, Fatima, Jan en Marloes hebben hetzelfde plan: { $same }
demo-step-relay = Wat bewaart de relay? In de database staan geen namen en geen taken, alleen versleutelde gegevens.
demo-in-relay-db = { $needle } in de database van de relay: { $found }
demo-found = GEVONDEN
demo-no = nee
demo-pass-relay-db = (geef --relay-db mee om in de database van de relay te kijken)
demo-step-show = De telefoon van Sanne toont nu het hele plan:
demo-stores = De opslag van de telefoons staat in { $dir } ({ $kept }).
demo-stores-removed = wordt weggehaald als de demo klaar is; bewaar met --keep DIR
demo-stores-kept = bewaard

## kring reminders, kring news
reminders-heading = Je herinneringen voor de komende { $days ->
    [one] dag
   *[other] { $days } dagen
}:
reminders-none = Geen herinneringen voor de komende { $days ->
    [one] dag
   *[other] { $days } dagen
}.
reminders-set = Op dit apparaat: stil { $mute }, weekoverzicht { $digest }, rustige uren { $from } tot { $until }.
word-on = aan
word-off = uit
error-quiet-hours = Rustige uren schrijf je als 22:00-08:00, niet als { $typed }.
news-none = Niets nieuws sinds je de vorige keer keek.

## What core's errors say (cli/src/core_text.rs)
core-invalid-choice = “{ $value }” kan hier niet; kies uit: { $choices }.
core-network-kept = Wat je veranderde staat veilig op dit apparaat en gaat mee met de volgende sync.
core-daily-quota = Dit apparaat heeft vandaag zoveel gestuurd als de relay op één dag aanneemt. Morgen kan het weer; er gaat niets verloren.
core-corrupt-store = De opslag op dit apparaat is beschadigd. Er is niets veranderd; meld dit alsjeblieft.
core-already-exists = Dat is er al.
core-circle-here = Deze kring staat al op dit apparaat.
core-wrong-circle = Dit hoort bij een andere kring.
core-link-incomplete = Deze link is niet compleet of is veranderd. Vraag om een nieuwe.
core-newer-version = Dit is gemaakt met een nieuwere versie van Kring. Werk Kring bij en probeer het opnieuw.
core-damaged = Wat binnenkwam is beschadigd of komt niet van Kring. Er is niets veranderd.
core-unauthorized = Dat mag dit apparaat niet in deze kring.
core-owner-protected = Alleen de hoofdpersoon zelf kan haar plek of haar apparaten veranderen.
core-out-of-step = Dit apparaat en de relay lopen niet gelijk. Doe `kring sync` en probeer het opnieuw.
core-clock = De klok van dit apparaat loopt anders dan die van de relay. Zet de tijd goed en probeer het opnieuw.
core-no-key = Dit apparaat heeft hier (nog) geen sleutel voor. Doe `kring sync`; helpt dat niet, dan was het niet voor jou bedoeld.
core-unauthenticated = De relay herkende dit apparaat niet. Probeer het opnieuw; gebeurt het weer, meld het dan.
core-circle-exists = Deze kring staat al op de relay.
core-timeout = Dat duurde te lang. Probeer het opnieuw.
core-admission-required = Deze relay maakt alleen kringen voor wie een toegangsbewijs heeft. Vraag er een aan de beheerder van de relay (vaak je gemeente of zorgorganisatie), zet het in KRING_ADMISSION en doe dan opnieuw `kring sync`.
core-push-subscription = De relay neemt deze pushinschrijving niet aan. Schrijf je opnieuw in, in de browser of de app.
core-recovery-word-count = Een herstelcode heeft { $expected } woorden; dit zijn er { $found }.
core-recovery-unknown-word = Woord { $position } is geen herstelwoord. Kijk dat woord na op je papier.
core-recovery-checksum = De woorden horen niet bij elkaar: er is een woord verkeerd getypt, of er staan er twee omgewisseld. Kijk ze na op je papier.
kind-invalid-input = Dat kan zo niet: kijk na wat je typte.
kind-not-found = Dat is hier niet.
kind-not-allowed = Dat mag niet in deze kring.
kind-task-full = Alle plekken van deze taak zijn al bezet.
kind-invalid-transition = Het plan kan nu niet naar die stand.
kind-recovery-refused = Deze herstelcode werkt niet.
value-capability = “{ $value }” is geen rol; kies uit: member (lid), reader (lezer), admin (beheerder).
value-date = “{ $value }” is geen datum die Kring snapt; schrijf 24-11-2026 of "24-11-2026 18:00".
value-time-zone = “{ $value }” is geen tijdzone; schrijf hem als Europe/Amsterdam.
value-repeat-rule = Deze herhaling werkt niet: “{ $value }”.
value-time-of-day = “{ $value }” is geen tijdstip; schrijf het als 22:00.
value-every-how-many-weeks = “{ $value }” kan niet als om de hoeveel weken; schrijf een getal van 1 tot 52.
value-occurrence = De taak heeft geen beurt op { $value }. `kring task occurrences` laat de datums zien.
value-export-format = “{ $value }” is geen vorm; kies uit md, html, fhir, pdf.
value-relay-URL = “{ $value }” is geen adres van een relay; het begint met https:// (of http:// op je eigen computer).
value-secret-name = De sleutelkluis van dit apparaat neemt de naam “{ $value }” niet aan.
value-sequence-number = Dit getal is te groot.
value-request = Dit kon de relay niet gevraagd worden. Meld dit alsjeblieft.
file-not-found = het bestaat niet
file-permission = geen toestemming
file-exists = het bestaat al
file-other = het bestandssysteem weigerde
core-invalid-id = “{ $value }” is geen geldige id.
core-invalid-value = “{ $value }” kan hier niet.
core-empty-text = Vul { $field } in: het mag niet leeg zijn.
core-text-too-long = { $field } is te lang: { $len } tekens, er mogen er { $max }.
core-invalid-slots = Een taak heeft minstens 1 persoon nodig.
core-dates-out-of-order = De datums staan in de verkeerde volgorde: wat eerst komt, moet vóór wat daarna komt.
core-unknown-member = Dat lid is er niet in deze kring. `kring member list` laat zien wie er wel in zit.
core-unknown-task = Er is geen taak { $id } in deze kring.
core-unknown-entry = Dit staat niet (meer) in het plan: { $id }.
core-unknown-circle = Die kring staat niet op dit apparaat. `kring circle list` laat zien welke er wel staan.
core-not-a-member = Die persoon of dat apparaat hoort niet (meer) bij deze kring.
core-not-allowed = Dat mag niet in deze kring.
core-task-not-open = Deze taak is geschrapt of afgesloten.
core-task-full = Alle plekken van deze taak zijn al bezet ({ $slots }).
core-already-claimed = Je doet deze taak al.
core-not-claimed = Je doet deze taak niet, dus je kunt hem ook niet teruggeven.
core-already-done = Deze taak is al gedaan.
core-invalid-transition = Het plan kan niet van “{ $from }” naar “{ $to }”.
core-approval-missing = Eerst moet de hoofdpersoon het plan goedkeuren.
core-removed = Je telefoon is uit deze kring gehaald.
core-read-only = Je mag in deze kring meelezen, maar niets veranderen.
core-invite-expired = Deze uitnodiging is verlopen.
core-invite-used = Deze uitnodiging is al gebruikt.
core-invite-revoked = Deze uitnodiging werkt niet meer.
core-recovery-refused = Deze herstelcode werkt niet.
core-network = De relay is nu niet te bereiken. Probeer het later opnieuw.
core-rate-limited = De relay is even te druk. Probeer het over { $seconds } seconden opnieuw.
core-no-relay = Deze kring heeft nog geen relay: eerst `kring relay set URL`.
core-local-only = Deze kring komt uit een bestand en synchroniseert niet; wissel bestanden uit met `kring export` en `kring merge`.
core-plan-not-available = Het plan is nog niet op de relay; synchroniseer straks opnieuw.
core-archived = Deze kring is gesloten. Dit apparaat bewaart hem alleen om te lezen.
core-circle-closed = Deze kring is gesloten door de hoofdpersoon; de relay bewaart er niets meer van.
core-quota = De relay neemt voor deze kring niets meer aan: de grens die de beheerder stelde is bereikt. De hoofdpersoon kan de beheerder om meer ruimte vragen.
core-busy = Iemand anders veranderde de leden van de kring op hetzelfde moment. Er is niets veranderd; probeer het nog eens.
core-family-time-already-open = De familietijd is al open.
core-family-time-not-open = De familietijd is niet open.
core-family-time-out-of-date = De familiesleutel is verouderd (er kwam iemand bij, ging iemand weg of werd iemand hulpverlener). De hoofdpersoon of een beheerder maakt een nieuwe: kring family-time rotate
core-family-time-no-key = Dit apparaat heeft geen sleutel voor wat de familie schrijft.
core-family-time-present-not-allowed = Alleen de hoofdpersoon presenteert het plan van de familie.
core-family-time-nothing-written = Er is in deze familietijd nog niets geschreven, dus er is niets om te laten zien. Wil je de familietijd toch stoppen? kring family-time close
core-family-time-handover = De familietijd is open. Presenteer eerst het plan van de familie (kring family-time present) of sluit de familietijd, en draag het plan dan over.
core-family-time-already-presented = Wat de familie schreef is al gepresenteerd. Voor een nieuw gesprek open je de familietijd opnieuw: kring family-time open
core-family-time-not-allowed = Alleen de hoofdpersoon of een beheerder opent en sluit de familietijd en wijst hulpverleners aan.
core-rejected = Geweigerd: wat binnenkwam klopte niet met de regels of de handtekeningen van de kring. Er is niets veranderd.
core-storage = Er ging iets mis met de opslag op dit apparaat. Er is niets veranderd.
core-secret-store = De sleutels van dit apparaat zijn niet te lezen.
core-invalid-document = Dit bestand is geen plan van deze kring.
core-relay-refused = De relay weigerde dit. Er is niets veranderd.
core-internal = Er ging iets mis in Kring zelf. Er is niets veranderd. Meld dit alsjeblieft.
refusal-reader = Je mag in deze kring meelezen, maar niets veranderen.
refusal-change-circle = Alleen de hoofdpersoon verandert de naam en de taal van de kring.
refusal-add-person = Alleen de hoofdpersoon of een beheerder voegt mensen toe.
refusal-edit-member = Alleen de hoofdpersoon of een beheerder verandert hoe iemand anders in de kring staat.
refusal-designate = Alleen de hoofdpersoon of een beheerder wijst hulpverleners en coördinatoren aan.
refusal-remove-main-person = De hoofdpersoon kan niet uit de eigen kring worden gehaald.
refusal-remove-member = Alleen de hoofdpersoon of een beheerder haalt mensen uit de kring.
refusal-set-question = Alleen de hoofdpersoon bepaalt de vraag van het plan.
refusal-set-status = Alleen de hoofdpersoon verandert de status van het plan.
refusal-approve = Je keurt het plan alleen voor jezelf goed.
refusal-add-list-item = Alleen de hoofdpersoon of een beheerder zet doelen en afspraken voor als het anders loopt in het plan.
refusal-remove-list-item = Alleen wie het schreef, de hoofdpersoon of een beheerder haalt een regel uit het plan.
refusal-review = Alleen de hoofdpersoon of een beheerder plant en noteert evaluaties.
refusal-handover = Alleen de hoofdpersoon of een beheerder draagt het plan over aan hulpverleners.
refusal-edit-task = Alleen wie de taak maakte, de hoofdpersoon of een beheerder verandert of schrapt hem.
refusal-claim = Je neemt of geeft een plek alleen voor jezelf.
refusal-complete = Alleen wie de taak doet, wie hem controleert of de hoofdpersoon zet hem op gedaan.
refusal-set-condition = Alleen een hulpverlener maakt veiligheidsafspraken.
refusal-accept-condition = Alleen de hoofdpersoon gaat akkoord met veiligheidsafspraken.
refusal-withdraw-offer = Alleen wie iets aanbood, trekt het aanbod in.
refusal-edit-meeting = Alleen wie het overleg plande, de hoofdpersoon of een beheerder verandert het.
refusal-rsvp = Je antwoordt alleen voor jezelf.
field-title = een titel
field-circle-name = een naam voor de kring
field-display-name = een naam
field-condition = de afspraak
field-message = een bericht
field-offer = het aanbod
field-summary = een samenvatting
field-text = een tekst
field-date = datum
field-time-zone = tijdzone
field-repeat-rule = herhaling
field-time-of-day = tijdstip
field-capability = rol
field-relay-URL = adres van de relay

## The command line parser (main.rs)
parse-unknown-argument = kring kent { $what } niet. `kring --help` laat zien wat kring kan.
parse-unknown-command = kring heeft geen opdracht { $what }. `kring --help` laat de opdrachten zien.
parse-invalid-value = “{ $value }” kan niet bij { $what }. `kring --help` zegt wat wel kan.
parse-missing = Er mist iets: { $what }. `kring --help` zegt wat je moet meegeven.
parse-missing-command = Zeg wat kring moet doen. `kring --help` laat de opdrachten zien.
parse-other = kring begreep deze opdracht niet. `kring --help` laat zien hoe je hem schrijft.

## Core's reasons outside the permit table (core_text::REASONS)
reason-invite-not-device = Een uitnodiging is voor een nieuwe persoon, niet voor nog een apparaat. Nog een apparaat komt met `kring device link` op je eigen apparaat.
reason-device-link-hour = Een apparaatlink werkt hoogstens een uur.
reason-device-link-not-person = Een apparaatlink is voor nog een apparaat van dezelfde persoon, niet voor iemand nieuws. Voor iemand nieuws: `kring invite`.
reason-snapshot = Alleen de apparaten van de hoofdpersoon maken een momentopname van haar plan.
reason-one-main-person = Een kring heeft precies één hoofdpersoon.
reason-watch-one-relay = Kring kan de kringen van één relay tegelijk volgen; kies er een met --circle.
reason-watch-none = Geen van de kringen kan gevolgd worden: ze hebben geen relay, zijn gesloten of je zit er niet meer in.
reason-watch-no-circle = Er is geen kring om te volgen.
reason-link-is-invite = Dit is een uitnodiging voor een nieuwe persoon: doe mee met `kring join`.
reason-unsigned-merge = Deze kring synchroniseert via de relay, met ondertekende wijzigingen; een los planbestand zonder handtekening kan er niet in (gebruik `kring sync`).
reason-other-relay = Deze kring staat al op een andere relay; een kring verhuizen kan niet.
reason-fewer-places = Er doen al meer mensen mee dan er dan plekken zijn; eerst moet iemand de taak teruggeven.
reason-turns-need-series = Beurten kunnen alleen bij een taak die herhaalt in de tijd van de kring (pas eerst de planning aan).
reason-occurrences-need-series = Alleen een reeks in de tijd van de kring heeft data om te veranderen.
reason-founds = Alleen de hoofdpersoon begint het plan van de kring.
reason-device-cut-off = Dit apparaat stuurde een wijziging die de regels van het plan weigeren; wat het daarna stuurt, wordt niet meer aangenomen.
reason-builds-on-refused = Deze wijziging bouwt voort op een wijziging die geweigerd is.
