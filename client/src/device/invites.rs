//! The invites of a circle, as a person managing them sees them: what each grants,
//! until when, made by whom, used, taken back or still open — and taking one back.
//!
//! An invite is made offline and is not in the membership log until it is used, so
//! an open invite is known only on the device that made it: this device keeps a note
//! of each one it makes (setting `invites/<circle>`, erased with the circle). Used
//! ones come from the log, wherever they were made. Taking one back is a log entry
//! ([`kring_trust::membership::Action::RevokeInvite`]): the relay and every device
//! refuse the link from then on.

use serde::{Deserialize, Serialize};

use super::Device;
use crate::error::{Error, Result};
use kring_plan::plan::{CircleId, MemberId};
use kring_trust::invite::{InviteId, InviteKind, SignedInvite};
use kring_trust::membership::Capability;
use kring_trust::time::Timestamp;
use kring_trust::Error as TrustError;

/// Where an invite stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteState {
    /// Not used, not expired, not taken back: whoever holds the link can join.
    Open,
    Used,
    Expired,
    /// Taken back, or no longer accepted (its maker may no longer invite, or someone
    /// was removed since it was made).
    Revoked,
}

/// One invite of the circle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InviteInfo {
    pub id: InviteId,
    pub capability: Capability,
    /// Made for a person the plan has by name.
    pub for_member: Option<MemberId>,
    /// The member whose device made it.
    pub made_by: Option<MemberId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub state: InviteState,
}

/// What this device keeps of an invite it made: the signed invite, not the link
/// (the secret never stays here).
#[derive(Serialize, Deserialize)]
struct Made {
    /// The signed invite's bytes, hex.
    invite: String,
}

fn made_key(circle: &CircleId) -> String {
    format!("invites/{circle}")
}

impl Device {
    /// Notes an invite this device made, so it can be listed and taken back.
    pub(super) fn note_invite(&self, circle: &CircleId, invite: &SignedInvite) -> Result<()> {
        let mut made = self.made_invites(circle)?;
        made.push(Made {
            invite: hex::encode(invite.as_bytes()),
        });
        let bytes = serde_json::to_vec(&made).map_err(|e| Error::CorruptStore(e.to_string()))?;
        self.store.set_setting(&made_key(circle), &bytes)
    }

    fn made_invites(&self, circle: &CircleId) -> Result<Vec<Made>> {
        match self.store.setting(&made_key(circle))? {
            None => Ok(Vec::new()),
            Some(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| Error::CorruptStore(e.to_string()))
            }
        }
    }

    /// The circle's invites for new people: the ones this device made, and every
    /// used one in the log; newest first. Device links are not listed (they live
    /// for minutes, on the person's own devices).
    pub fn invites(&self, circle: &CircleId, now: Timestamp) -> Result<Vec<InviteInfo>> {
        let trust = self
            .trust(circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        let state = trust.state();
        let from_log = trust.entries().iter().filter_map(|e| e.invite().cloned());
        let made = self
            .made_invites(circle)?
            .into_iter()
            .filter_map(|m| hex::decode(&m.invite).ok())
            .filter_map(|bytes| SignedInvite::from_bytes(&bytes).ok());
        let mut seen = std::collections::BTreeSet::new();
        let mut invites: Vec<InviteInfo> = from_log
            .chain(made)
            .filter(|invite| invite.kind() == InviteKind::Person)
            .filter(|invite| seen.insert(invite.id()))
            .map(|invite| {
                let body = invite.body();
                let state_now = if state.is_redeemed(&invite.id()) {
                    InviteState::Used
                } else if state.is_revoked(&invite.id()) {
                    InviteState::Revoked
                } else {
                    match kring_trust::invite::check_usable(state, &invite, now) {
                        Ok(()) => InviteState::Open,
                        Err(TrustError::InviteExpired { .. }) => InviteState::Expired,
                        Err(_) => InviteState::Revoked,
                    }
                };
                InviteInfo {
                    id: invite.id(),
                    capability: body.capability,
                    for_member: invite.for_member().cloned(),
                    made_by: state.member_of_device(&body.issuer).cloned(),
                    created_at: body.created_at,
                    expires_at: body.expires_at,
                    state: state_now,
                }
            })
            .collect();
        invites.sort_by_key(|i| std::cmp::Reverse(i.created_at));
        Ok(invites)
    }

    /// Takes back the open invite `invite` (through the relay: from then on nobody
    /// joins with it). An invite that was used is `InviteReused` (remove the person
    /// instead); only the main person and admins take invites back.
    pub fn revoke_invite(
        &mut self,
        circle: &CircleId,
        invite: InviteId,
        now: Timestamp,
    ) -> Result<()> {
        self.append_after_sync(circle, now, "revocation", |state, identity, _, _, now| {
            state.revoke_invite(identity, invite, now)
        })
    }
}
