//! Device links: one more device for the same member, checked by the validator that
//! the relay and every device run.

use super::*;
use crate::testkit::{Person, TestCircle, RELAY};

fn link(circle: &mut TestCircle, by: &DeviceIdentity, minutes: i64) -> Result<InviteToken> {
    let now = circle.tick();
    InviteToken::create_device_link(
        &circle.state,
        by,
        &circle.keys(by),
        RELAY,
        now.plus_millis(minutes * 60_000),
        now,
    )
}

fn add(circle: &mut TestCircle, token: &InviteToken) -> Result<DeviceIdentity> {
    let device = DeviceIdentity::generate();
    let at = circle.tick();
    let entry = token.redeem_device(&circle.state, &device, at)?;
    circle.state.apply_mut(&entry)?;
    circle.log.push(entry);
    Ok(device)
}

#[test]
fn a_device_link_admits_a_device_for_the_same_member_with_the_same_capability() {
    let (mut circle, owner) = TestCircle::new();
    let reader = circle.join(&owner.device, Capability::Reader);

    let token = link(&mut circle, &reader.device, 10).unwrap();
    let text = token.to_link();
    assert!(text.starts_with(DEVICE_LINK_PREFIX), "{text}");
    assert!(text.len() < 700, "QR-sized: {} characters", text.len());
    let token = InviteToken::from_link(&text).unwrap();
    assert_eq!(token.invite().kind(), InviteKind::Device);

    let tablet = add(&mut circle, &token).unwrap();
    assert_eq!(
        circle.state.member_of_device(&tablet.id()),
        Some(&reader.member)
    );
    assert_eq!(
        circle.state.capability_of(&tablet.id()),
        Some(Capability::Reader)
    );
    // The new device holds the current key, like every device the log admits.
    assert_eq!(
        circle.keys(&tablet).epochs().collect::<Vec<_>>(),
        vec![circle.state.current_epoch()]
    );
    // Everyone replaying the log agrees.
    assert_eq!(
        MembershipState::from_log(&circle.log).unwrap(),
        circle.state
    );

    // Single use.
    assert!(matches!(
        add(&mut circle, &token),
        Err(Error::InviteReused(_))
    ));
}

#[test]
fn an_owners_device_link_makes_a_second_owner_device_not_a_second_owner() {
    let (mut circle, owner) = TestCircle::new();
    let token = link(&mut circle, &owner.device, 10).unwrap();
    let phone = add(&mut circle, &token).unwrap();
    assert_eq!(
        circle.state.member_of_device(&phone.id()),
        Some(&owner.member)
    );
    assert_eq!(circle.state.owner(), &owner.member);
    // The new phone may act as the owner, e.g. appoint an admin.
    let admin = circle.join(&phone, Capability::Admin);
    assert_eq!(
        circle.state.capability_of(&admin.device.id()),
        Some(Capability::Admin)
    );
}

#[test]
fn links_and_invites_cannot_stand_in_for_each_other() {
    let (mut circle, owner) = TestCircle::new();
    let invite = circle.invite(&owner.device, Capability::Member, 1);
    let device = DeviceIdentity::generate();
    assert!(matches!(
        invite.redeem_device(&circle.state, &device, circle.now),
        Err(Error::NotAllowed(_))
    ));

    let token = link(&mut circle, &owner.device, 10).unwrap();
    let person = Person::new();
    assert!(matches!(
        token.redeem(
            &circle.state,
            &person.device,
            person.member.clone(),
            circle.now
        ),
        Err(Error::NotAllowed(_))
    ));
    // The prefix cannot lie about the kind either.
    let relabelled = token.to_link().replace(DEVICE_LINK_PREFIX, LINK_PREFIX);
    assert!(InviteToken::from_link(&relabelled).is_err());
}

#[test]
fn a_device_link_is_short_lived_and_expires() {
    let (mut circle, owner) = TestCircle::new();
    assert!(matches!(
        link(&mut circle, &owner.device, 61),
        Err(Error::NotAllowed(_))
    ));
    let token = link(&mut circle, &owner.device, 1).unwrap();
    circle.now = circle.now.plus_millis(2 * 60_000);
    assert!(matches!(
        add(&mut circle, &token),
        Err(Error::InviteExpired { .. })
    ));
    assert!(matches!(
        check_usable(&circle.state, token.invite(), circle.now),
        Err(Error::InviteExpired { .. })
    ));
}

#[test]
fn a_link_for_another_member_or_from_a_removed_device_is_refused() {
    let (mut circle, owner) = TestCircle::new();
    let member = circle.join(&owner.device, Capability::Member);
    let token = link(&mut circle, &member.device, 10).unwrap();

    // The new device cannot claim to be someone else than the link's member.
    let device = DeviceIdentity::generate();
    let state = &circle.state;
    let action = Action::AddLinkedDevice {
        invite: token.invite().as_bytes().to_vec(),
        member: owner.member.clone(),
        device: device.public(),
        key: token.epoch_key().unwrap().wrap(0, &device.exchange_key()),
    };
    let body = state.next_body(device.id(), action, circle.now);
    let signing = TokenKeys::from_seed(&token.secret).signing;
    let forged = SignedEntry::sign(&device, &body, Some(&signing)).unwrap();
    assert!(matches!(
        state.check(&forged),
        Err(Error::Unauthorized { .. })
    ));

    // Once the member is removed, their link is revoked.
    circle.remove_member(&owner.device, &member.member, &Default::default());
    assert!(matches!(
        check_usable(&circle.state, token.invite(), circle.now),
        Err(Error::InviteRevoked(_))
    ));
}

#[test]
fn a_member_removes_their_own_lost_device_and_the_key_rotates() {
    let (mut circle, owner) = TestCircle::new();
    let member = circle.join(&owner.device, Capability::Member);
    let token = link(&mut circle, &member.device, 10).unwrap();
    let tablet = add(&mut circle, &token).unwrap();
    let epoch = circle.state.current_epoch();

    let at = circle.tick();
    let removal = circle
        .state
        .remove_device(
            &tablet,
            &circle.keys(&tablet),
            &member.device.id(),
            &Default::default(),
            at,
        )
        .unwrap();
    circle.append(removal);
    assert_eq!(circle.state.capability_of(&member.device.id()), None);
    assert_eq!(circle.state.current_epoch(), epoch + 1);
    // The removed phone has no key of the new epoch.
    assert!(!circle.keys(&member.device).epochs().any(|e| e == epoch + 1));
    // The last device goes only with the member.
    let at = circle.tick();
    assert!(circle
        .state
        .remove_device(
            &tablet,
            &circle.keys(&tablet),
            &tablet.id(),
            &Default::default(),
            at
        )
        .is_err());
}

#[test]
fn an_invite_link_carries_the_names_encrypted_and_a_tampered_card_is_refused() {
    let (mut circle, owner) = TestCircle::new();
    let token = circle
        .invite(&owner.device, Capability::Member, 7)
        .with_card(LinkCard::new("Kring voor Sanne", "Sanne"));
    let text = token.to_link();
    assert!(text.len() < 700, "QR-sized: {} characters", text.len());
    let back = InviteToken::from_link(&text).unwrap();
    assert_eq!(
        back.card(),
        Some(&LinkCard::new("Kring voor Sanne", "Sanne"))
    );
    // The names are not readable in the link, nor in what the relay gets.
    let raw = URL_SAFE_NO_PAD
        .decode(text.strip_prefix(LINK_PREFIX).unwrap())
        .unwrap();
    assert!(!raw.windows(5).any(|w| w == b"Sanne"));
    assert!(!token.invite().as_bytes().windows(5).any(|w| w == b"Sanne"));
    // Any changed byte of the card is refused.
    let mut bad = raw.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(
        InviteToken::from_link(&format!("{LINK_PREFIX}{}", URL_SAFE_NO_PAD.encode(&bad))).is_err()
    );
    // Links without a card still work.
    let plain = circle
        .invite(&owner.device, Capability::Member, 7)
        .to_link();
    assert_eq!(InviteToken::from_link(&plain).unwrap().card(), None);
}
