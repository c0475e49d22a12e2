//! What people look at, computed on this device: the follow-up report of a circle,
//! the coordinator's overview across circles, the main person's week and the
//! exports. The apps (CLI, mobile bindings) call these instead of putting the pieces
//! together themselves, so what a viewer is shown is decided here, once.
//!
//! # Who is looking
//!
//! Every method here acts *as this device's member* of the circle (`Device::me`):
//! the viewer is never a parameter an app can fill in. The follow-up report names
//! people (silent members, load per member), which is meant for the main person,
//! admins and the coordinator only (DESIGN.md §3); when the follow-up engine learns
//! to leave those signals out for other viewers, [`Device::followup_report`] and
//! [`Device::coordinator_overview`] pass it this device's member and its capability,
//! and no app changes.

use crate::export::{export_plan, ExportFormat};
use crate::followup::{self, CircleReport, CoordinatorOverview, MyWeek};
use crate::invite::LinkCard;
use crate::plan::{CircleId, Language, MemberId, PlanView};
use crate::time::Timestamp;
use crate::Result;

use super::Device;

impl Device {
    /// The follow-up report of `circle` at `now`, as this device's member sees it.
    pub fn followup_report(&self, circle: &CircleId, now: Timestamp) -> Result<CircleReport> {
        let (view, _viewer) = self.viewed(circle)?;
        Ok(followup::circle_report(&view, now))
    }

    /// Every circle on this device, most urgent first: the coordinator's queue. Each
    /// circle is seen as this device's member of it.
    pub fn coordinator_overview(&self, now: Timestamp) -> Result<CoordinatorOverview> {
        let mut views = Vec::new();
        for stored in self.circles()? {
            let (view, _viewer) = self.viewed(&stored.id)?;
            views.push(view);
        }
        Ok(followup::coordinator_overview(&views, now))
    }

    /// The main person's next seven days in plain language, in `lang` (default: the
    /// circle's own language).
    pub fn my_week(
        &self,
        circle: &CircleId,
        now: Timestamp,
        lang: Option<Language>,
    ) -> Result<MyWeek> {
        let (view, _viewer) = self.viewed(circle)?;
        let lang = lang.unwrap_or(view.circle.language);
        Ok(followup::my_week(&view, now, lang))
    }

    /// The plan as a readable document (Markdown or a printable HTML page), in `lang`
    /// (default: the circle's own language), dated `now`.
    pub fn export_text(
        &self,
        circle: &CircleId,
        format: ExportFormat,
        lang: Option<Language>,
        now: Timestamp,
    ) -> Result<String> {
        let (view, _viewer) = self.viewed(circle)?;
        let lang = lang.unwrap_or(view.circle.language);
        Ok(export_plan(&view, now, format, lang))
    }

    /// The card a link made on this device carries (encrypted, for a preview): the
    /// circle's name and the name of this device's member.
    pub(crate) fn link_card(&self, circle: &CircleId) -> Result<LinkCard> {
        let (view, me) = self.viewed(circle)?;
        Ok(LinkCard::new(&view.circle.name, &view.display_name(&me)))
    }

    /// The plan and who is looking at it.
    fn viewed(&self, circle: &CircleId) -> Result<(PlanView, MemberId)> {
        let viewer = self.me(circle)?;
        Ok((self.view(circle)?, viewer))
    }
}
