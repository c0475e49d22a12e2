//! Invite tests: joining, replay, expiry, forgery.

use std::collections::BTreeMap;

use super::*;
use crate::envelope;
use crate::testkit::{change_by, single_byte_changes, Person, TestCircle, RELAY};

fn redeem(circle: &mut TestCircle, token: &InviteToken) -> Result<Person> {
    let person = Person::new();
    let at = circle.tick();
    let entry = token.redeem(&circle.state, &person.device, person.member.clone(), at)?;
    circle.append(entry);
    Ok(person)
}

#[test]
fn an_invite_link_brings_in_a_device_that_reads_history_and_writes() {
    let (mut circle, owner) = TestCircle::new();
    let admin = circle.join(&owner.device, Capability::Admin);
    let at = circle.tick();
    let rotate = circle
        .state
        .rotate_key(&owner.device, &circle.keys(&owner.device), at)
        .unwrap();
    circle.append(rotate);

    let link = circle
        .invite(&admin.device, Capability::Member, 7)
        .to_link();
    assert!(link.starts_with(LINK_PREFIX));
    assert!(
        link.len() < 600,
        "fits a QR code comfortably: {} characters",
        link.len()
    );
    let token = InviteToken::from_link(&link).unwrap();
    assert_eq!(token.invite().body().relay_url, RELAY);
    assert_eq!(&token.invite().body().circle, circle.state.circle());

    let joiner = redeem(&mut circle, &token).unwrap();
    assert_eq!(
        circle.state.capability_of(&joiner.device.id()),
        Some(Capability::Member)
    );
    assert!(circle.state.is_redeemed(&token.invite().id()));
    assert_eq!(
        MembershipState::from_log(&circle.log).unwrap(),
        circle.state
    );

    // The joiner holds the current key and, through it, the older one.
    let joiner_keys = circle.keys(&joiner.device);
    assert_eq!(joiner_keys.epochs().collect::<Vec<_>>(), vec![0, 1]);
    let old = envelope::seal(
        &owner.device,
        &MembershipState::from_log(&circle.log[..2]).unwrap(),
        &circle.keys(&owner.device),
        1,
        None,
        &[change_by(&owner.device, "old")],
    )
    .unwrap();
    envelope::open(old.as_bytes(), &circle.state, &joiner_keys).unwrap();
    let new = envelope::seal(
        &joiner.device,
        &circle.state,
        &joiner_keys,
        1,
        None,
        &[change_by(&joiner.device, "hallo")],
    )
    .unwrap();
    envelope::open(new.as_bytes(), &circle.state, &circle.keys(&owner.device)).unwrap();
}

#[test]
fn an_invite_is_single_use() {
    let (mut circle, owner) = TestCircle::new();
    let token = circle.invite(&owner.device, Capability::Reader, 7);
    redeem(&mut circle, &token).unwrap();
    assert!(
        matches!(redeem(&mut circle, &token), Err(Error::InviteReused(id)) if id == token.invite().id())
    );

    // Also when the second redemption is hand-made against an older view of the log.
    let (mut circle, owner) = TestCircle::new();
    let token = circle.invite(&owner.device, Capability::Reader, 7);
    let before = circle.state.clone();
    redeem(&mut circle, &token).unwrap();
    let second = Person::new();
    let mut body = before.next_body(
        second.device.id(),
        Action::RedeemInvite {
            invite: token.invite().as_bytes().to_vec(),
            member: second.member.clone(),
            device: second.device.public(),
            key: token
                .epoch_key()
                .unwrap()
                .wrap(0, &second.device.exchange_key()),
        },
        circle.now,
    );
    body.seq = circle.state.len();
    body.prev = Some(circle.state.head());
    let signing = TokenKeys::from_seed(&token.secret).signing;
    let entry = SignedEntry::sign(&second.device, &body, Some(&signing)).unwrap();
    assert!(matches!(
        circle.state.apply(&entry),
        Err(Error::InviteReused(_))
    ));
}

#[test]
fn an_expired_invite_is_rejected() {
    let (mut circle, owner) = TestCircle::new();
    let token = circle.invite(&owner.device, Capability::Member, 1);
    let expires_at = token.invite().body().expires_at;
    let person = Person::new();
    let late = token.redeem(
        &circle.state,
        &person.device,
        person.member.clone(),
        expires_at.plus_millis(1),
    );
    assert!(matches!(late, Err(Error::InviteExpired { .. })));
    let just_in_time = token
        .redeem(
            &circle.state,
            &person.device,
            person.member.clone(),
            expires_at,
        )
        .unwrap();
    circle.append(just_in_time);
    // An invite must expire after it is made.
    let now = circle.tick();
    let keys = circle.keys(&owner.device);
    let backwards = InviteToken::create(
        &circle.state,
        &owner.device,
        &keys,
        RELAY,
        Capability::Member,
        now,
        now,
    );
    assert!(matches!(backwards, Err(Error::DatesOutOfOrder(_))));
}

#[test]
fn every_single_byte_change_of_an_invite_is_rejected() {
    let (mut circle, owner) = TestCircle::new();
    let token = circle.invite(&owner.device, Capability::Member, 7);
    for changed in single_byte_changes(token.invite().as_bytes()) {
        assert!(SignedInvite::from_bytes(&changed).is_err());
    }
    let link = token.to_link();
    let bytes = URL_SAFE_NO_PAD
        .decode(link.strip_prefix(LINK_PREFIX).unwrap())
        .unwrap();
    for changed in single_byte_changes(&bytes) {
        let changed_link = format!("{LINK_PREFIX}{}", URL_SAFE_NO_PAD.encode(&changed));
        assert!(InviteToken::from_link(&changed_link).is_err());
    }
    for bad in [
        "",
        "https://example.org",
        "kring://invite/!!!",
        "kring://invite/",
    ] {
        assert!(
            matches!(InviteToken::from_link(bad), Err(Error::Malformed { .. })),
            "{bad:?}"
        );
    }
    let long = format!("{LINK_PREFIX}{}", "A".repeat(MAX_LINK_LEN));
    assert!(matches!(
        InviteToken::from_link(&long),
        Err(Error::Oversized { .. })
    ));
}

#[test]
fn invites_need_an_active_admin_who_may_grant_the_capability() {
    let (mut circle, owner) = TestCircle::new();
    let admin = circle.join(&owner.device, Capability::Admin);
    let member = circle.join(&owner.device, Capability::Member);
    let now = circle.tick();
    let expires = now.plus_days(1);
    let create = |by: &Person, capability| {
        InviteToken::create(
            &circle.state,
            &by.device,
            &circle.keys(&by.device),
            RELAY,
            capability,
            expires,
            now,
        )
    };
    assert!(matches!(
        create(&member, Capability::Reader),
        Err(Error::Unauthorized { .. })
    ));
    assert!(matches!(
        create(&admin, Capability::Admin),
        Err(Error::Unauthorized { .. })
    ));
    assert!(matches!(
        create(&owner, Capability::Owner),
        Err(Error::Unauthorized { .. })
    ));
    create(&owner, Capability::Admin).unwrap();

    // A member forging an invite (signing it themselves) gets nowhere either.
    let good = create(&admin, Capability::Member).unwrap();
    let forged_body = InviteBody {
        issuer: member.device.id(),
        ..good.invite().body().clone()
    };
    let forged = InviteToken {
        invite: SignedInvite::sign(&member.device, &forged_body, None, InviteKind::Person).unwrap(),
        secret: good.secret.clone(),
        card: None,
    };
    assert!(matches!(
        redeem(&mut circle, &forged),
        Err(Error::Unauthorized { .. })
    ));
    // Nor does signing someone else's name: the issuer's signature does not match.
    let body = wire::encode(
        INVITE_BODY_V1,
        &InviteBody {
            issuer: admin.device.id(),
            ..forged_body
        },
    );
    let signature = member.device.sign(INVITE_DOMAIN, &body);
    let impostor = wire::encode(INVITE_V1, &InviteWire { body, signature });
    assert!(matches!(
        SignedInvite::from_bytes(&impostor),
        Err(Error::BadSignature(_))
    ));
}

#[test]
fn invites_die_with_their_issuer_and_with_a_key_rotation() {
    let (mut circle, owner) = TestCircle::new();
    let admin = circle.join(&owner.device, Capability::Admin);
    let by_admin = circle.invite(&admin.device, Capability::Member, 7);
    let by_owner = circle.invite(&owner.device, Capability::Member, 7);
    circle.remove_member(&owner.device, &admin.member, &BTreeMap::new());
    assert!(matches!(
        redeem(&mut circle, &by_admin),
        Err(Error::Removed(_))
    ));
    // The owner's invite carries the key from before the removal: stale.
    assert!(matches!(
        redeem(&mut circle, &by_owner),
        Err(Error::StaleEpoch {
            expected: 1,
            got: 0
        })
    ));
}

#[test]
fn an_invite_works_only_in_its_own_circle() {
    let (mut circle, owner) = TestCircle::new();
    let (mut other, _) = TestCircle::new();
    let token = circle.invite(&owner.device, Capability::Member, 7);
    assert!(matches!(
        redeem(&mut other, &token),
        Err(Error::WrongCircle { .. })
    ));
}

#[test]
fn a_redemption_needs_the_invite_keys_signature() {
    let (mut circle, owner) = TestCircle::new();
    let token = circle.invite(&owner.device, Capability::Member, 7);
    let joiner = Person::new();
    let body = circle.state.next_body(
        joiner.device.id(),
        Action::RedeemInvite {
            invite: token.invite().as_bytes().to_vec(),
            member: joiner.member.clone(),
            device: joiner.device.public(),
            key: token
                .epoch_key()
                .unwrap()
                .wrap(0, &joiner.device.exchange_key()),
        },
        circle.now,
    );
    let wrong_key = SigningKey::from_bytes(&[3; 32]);
    assert!(matches!(
        SignedEntry::sign(&joiner.device, &body, Some(&wrong_key)),
        Err(Error::BadSignature(_))
    ));
    assert!(matches!(
        SignedEntry::sign(&joiner.device, &body, None),
        Err(Error::BadSignature(_))
    ));
}

/// A person the plan has by name (say "Jan", added before he had a phone) gets an
/// invite made for him: the device that joins with it becomes that member, and no
/// client can take it to join as someone else or to add a device to a member who
/// already joined.
#[test]
fn an_invite_for_a_named_person_joins_as_that_person_only() {
    let (mut circle, owner) = TestCircle::new();
    let jan = MemberId::random();
    let make = |circle: &mut TestCircle, member: &MemberId| {
        let now = circle.tick();
        InviteToken::create_for(
            &circle.state,
            &owner.device,
            &circle.keys(&owner.device),
            RELAY,
            Capability::Member,
            member.clone(),
            now.plus_days(7),
            now,
        )
    };
    let token = InviteToken::from_link(&make(&mut circle, &jan).unwrap().to_link()).unwrap();
    assert_eq!(token.invite().for_member(), Some(&jan));

    // A modified client redeems it under a member id of its own choosing.
    let someone_else = redeem(&mut circle, &token).err();
    assert!(
        matches!(someone_else, Some(Error::Unauthorized { .. })),
        "{someone_else:?}"
    );
    assert!(!circle.state.is_redeemed(&token.invite().id()));

    let device = DeviceIdentity::generate();
    let at = circle.tick();
    let entry = token
        .redeem(&circle.state, &device, jan.clone(), at)
        .unwrap();
    circle.append(entry);
    assert_eq!(circle.state.member_of_device(&device.id()), Some(&jan));

    // Jan is in: an invite for him again would add a device to his membership.
    assert!(matches!(
        make(&mut circle, &jan),
        Err(Error::AlreadyExists(_))
    ));
    // An invite without a name still makes a new person.
    let plain = circle.invite(&owner.device, Capability::Member, 7);
    assert_eq!(plain.invite().for_member(), None);
    let piet = redeem(&mut circle, &plain).unwrap();
    assert_ne!(piet.member, jan);
}

/// A link sent to the wrong person is taken back: nobody joins with it afterwards —
/// the relay runs the same check — and neither a plain member nor anyone for a used
/// link can revoke.
#[test]
fn a_revoked_invite_no_longer_admits_anyone() {
    let (mut circle, owner) = TestCircle::new();
    let member = circle.join(&owner.device, Capability::Member);
    let token = circle.invite(&owner.device, Capability::Member, 7);
    let at = circle.tick();
    assert!(matches!(
        circle
            .state
            .revoke_invite(&member.device, token.invite().id(), at),
        Err(Error::Unauthorized { .. })
    ));
    let entry = circle
        .state
        .revoke_invite(&owner.device, token.invite().id(), at)
        .unwrap();
    circle.append(entry);
    assert!(circle.state.is_revoked(&token.invite().id()));
    let at = circle.tick();
    assert!(matches!(
        check_usable(&circle.state, token.invite(), at),
        Err(Error::InviteRevoked(_))
    ));
    assert!(matches!(
        redeem(&mut circle, &token),
        Err(Error::InviteRevoked(_))
    ));

    // A used link cannot be taken back (the person is in: remove them instead).
    let used = circle.invite(&owner.device, Capability::Member, 7);
    redeem(&mut circle, &used).unwrap();
    let at = circle.tick();
    assert!(matches!(
        circle
            .state
            .revoke_invite(&owner.device, used.invite().id(), at),
        Err(Error::InviteReused(_))
    ));
}
