//! Links on a device: what a link says before it is used, and a person's other
//! devices — `device_link` on a device already in a circle, `add_device` on the new
//! one, `devices` and `remove_device`.
//!
//! A device link (`kring://device/…`) is an invite of kind
//! [`InviteKind::Device`](kring_trust::invite::InviteKind): made offline by any active
//! device of a member, single use, valid for at most an hour, and it admits one
//! device *for that same member* with the member's own capability. The new device
//! writes the `AddLinkedDevice` entry itself (co-signed with the link key), and the
//! validator — on the relay and on every device — checks all of that; nothing here
//! is a rule of its own.

use kring_trust::Error as TrustError;
use serde::Serialize;

use super::join::PendingJoin;
use super::session::Session;
use crate::device::Device;
use crate::error::{Error, Result};
use kring_plan::plan::{CircleId, Relation};
use kring_trust::identity::DeviceId;
use kring_trust::invite::{InviteKind, InviteToken};
use kring_trust::membership::Capability;
use kring_trust::time::Timestamp;

/// What a link says, shown before it is used. Read from the link alone (no network).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkPreview {
    /// A new person (`kring://invite/…`) or another device of a member
    /// (`kring://device/…`).
    pub kind: InviteKind,
    pub circle: CircleId,
    /// The names the maker's device put in the link (encrypted inside it); `None` for
    /// links made before links carried them. Not checked: after joining, the plan
    /// shows the real names.
    pub circle_name: Option<String>,
    pub inviter_name: Option<String>,
    pub capability: Capability,
    pub relay_url: String,
    pub expires_at: Timestamp,
    /// Expired by this device's clock (the circle decides when it is used).
    pub expired: bool,
    /// This device is in the circle already.
    pub already_here: bool,
}

/// One device of a member, for `kring device list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    pub id: DeviceId,
    /// The device this list was made on.
    pub this_device: bool,
    /// The paper device of the recovery code this device made (only this device
    /// knows which one that is; other devices of the member show it as a device).
    pub recovery_code: bool,
    /// When the membership log admitted it.
    pub added_at: Timestamp,
}

impl Device {
    /// What `link` (an invite or a device link) says: circle, its name and who sent
    /// it, capability, expiry. Checks the link's signature and secret, changes
    /// nothing.
    pub fn preview_link(&self, link: &str, now: Timestamp) -> Result<LinkPreview> {
        let token = InviteToken::from_link(link)?;
        let body = token.invite().body();
        let already_here = self.store.sync_record(&body.circle)?.is_some()
            || self.store.circle(&body.circle).is_ok();
        Ok(LinkPreview {
            kind: token.invite().kind(),
            circle: body.circle.clone(),
            circle_name: token.card().map(|c| c.circle_name.clone()),
            inviter_name: token.card().map(|c| c.inviter_name.clone()),
            capability: body.capability,
            relay_url: body.relay_url.clone(),
            expires_at: body.expires_at,
            expired: now > body.expires_at,
            already_here,
        })
    }

    /// A one-time link (`kring://device/…`) that admits one more device for this
    /// device's member in `circle`, with the same capability, until `expires_at` (at
    /// most an hour from `now`). Made offline; the circle must be on its relay.
    pub fn device_link(
        &self,
        circle: &CircleId,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<String> {
        let record = self
            .store
            .sync_record(circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        let relay = record
            .relay_url
            .ok_or_else(|| Error::NoRelay(circle.to_string()))?;
        let trust = self
            .trust(circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        if expires_at <= now {
            return Err(TrustError::DatesOutOfOrder("a link must expire after it is made").into());
        }
        let token = InviteToken::create_device_link(
            trust.state(),
            &self.identity,
            trust.keys(),
            &relay,
            expires_at,
            now,
        )?;
        Ok(token.with_card(self.link_card(circle)?).to_link())
    }

    /// Joins the circle of a device link as another device of the link's member:
    /// reads the log with the link key, appends the `AddLinkedDevice` entry
    /// (compare-and-swap, rebuilt on a moved head), then syncs to fetch the plan. Once
    /// it returns the device is in; if the plan could not come yet, the next sync
    /// fetches it.
    pub fn add_device(&mut self, link: &str, now: Timestamp) -> Result<CircleId> {
        let token = InviteToken::from_link(link)?;
        if token.invite().kind() != InviteKind::Device {
            return Err(TrustError::NotAllowed(
                "this is an invite for a new person: join with it instead",
            )
            .into());
        }
        self.enter_circle(&token, now, |trust, identity| {
            let member = trust.state().check_device_link(token.invite())?.clone();
            let entry = token.redeem_device(trust.state(), identity, now)?;
            let pending = PendingJoin {
                member,
                name: String::new(),
                relation: Relation::Other,
                linked: true,
            };
            Ok((entry, pending))
        })
    }

    /// The active devices of this device's member in `circle`, as the membership log
    /// says, oldest first.
    pub fn devices(&self, circle: &CircleId) -> Result<Vec<DeviceInfo>> {
        let trust = self
            .trust(circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        let state = trust.state();
        let me = self.identity.id();
        let member = state
            .member_of_device(&me)
            .ok_or(TrustError::DeviceNotMember(me))?;
        let record = state
            .member(member)
            .ok_or_else(|| TrustError::UnknownMember(member.clone()))?;
        let paper = self.recovery_device(circle)?;
        let mut out: Vec<DeviceInfo> = record
            .devices()
            .filter_map(|id| {
                let position = state.device(id)?.admitted_at();
                let entry = trust.entries().get(usize::try_from(position).ok()?)?;
                Some(DeviceInfo {
                    id: *id,
                    this_device: *id == me,
                    recovery_code: Some(*id) == paper,
                    added_at: entry.body().at,
                })
            })
            .collect();
        out.sort_by_key(|d| (d.added_at, d.id));
        Ok(out)
    }

    /// Removes another device of this device's member (a lost phone) from `circle`:
    /// after a sync (so the device's write cutoff keeps what it wrote), a
    /// `RemoveDevice` entry that rotates the key, so the removed device cannot read
    /// anything written afterwards. Needs the relay. A device never removes itself,
    /// and a member's last device goes only with the member (the validator says so).
    pub fn remove_device(
        &mut self,
        circle: &CircleId,
        device: &DeviceId,
        now: Timestamp,
    ) -> Result<()> {
        let Device {
            store,
            identity,
            net,
            ..
        } = self;
        net.runtime.block_on(async {
            let mut session = Session::open(store, identity, &net.access, circle, now)?;
            session.run().await?;
            session.remove_device(device).await
        })
    }
}

impl Session<'_> {
    /// Appends the removal of `device`, rebuilt on the new head if another entry came
    /// first.
    pub(super) async fn remove_device(&mut self, device: &DeviceId) -> Result<()> {
        self.append_entry("removal", |state, identity, keys, last_seqs, now| {
            state.remove_device(identity, keys, device, last_seqs, now)
        })
        .await
    }
}
