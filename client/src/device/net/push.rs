//! Web Push wake-ups on a device: register this device's push subscription for a
//! circle with the circle's relay, or take it back. The relay then sends a
//! content-free push (circle id and cursor, `sync::wake_up::PushWakeUp`) when another
//! device stores something in the circle; the app syncs and writes every word a
//! person sees itself, from the decrypted plan (`docs/push.md`).

use crate::device::Device;
use crate::error::Result;
use crate::sync::http::RelayClient;
use kring_plan::plan::CircleId;
use kring_trust::protocol::{PushSubscription, VapidKey};

impl Device {
    /// Registers `subscription` (from the platform's push API, subscribed with the
    /// relay's [`Device::push_key`]) for `circle`, replacing this device's earlier
    /// one there. The circle must be on its relay (synced once).
    pub fn register_push(
        &mut self,
        circle: &CircleId,
        subscription: &PushSubscription,
    ) -> Result<()> {
        let relay = self.relay_of(circle)?;
        let Device { identity, net, .. } = self;
        net.runtime
            .block_on(relay.register_push(identity, circle, subscription))?;
        Ok(())
    }

    /// Stops the relay's wake-ups for this device in `circle` (no error when none
    /// were registered).
    pub fn unregister_push(&mut self, circle: &CircleId) -> Result<()> {
        let relay = self.relay_of(circle)?;
        let Device { identity, net, .. } = self;
        net.runtime
            .block_on(relay.unregister_push(identity, circle))?;
        Ok(())
    }

    /// The VAPID public key of `circle`'s relay: the `applicationServerKey` to
    /// subscribe with.
    pub fn push_key(&mut self, circle: &CircleId) -> Result<VapidKey> {
        let relay = self.relay_of(circle)?;
        let Device { identity, net, .. } = self;
        net.runtime.block_on(relay.vapid_key(identity))
    }

    fn relay_of(&self, circle: &CircleId) -> Result<RelayClient> {
        self.net.access.client(&self.relay_url(circle)?)
    }
}
