//! What people look at, computed on this device, besides the follow-up
//! ([`Device::circle_report`], [`Device::followup`], which decide the audience): the
//! main person's week and the readable exports, and the names a link made here
//! carries. Every method acts *as this device's member* of the circle: the viewer is
//! never a parameter an app can fill in.

use crate::Result;
use kring_plan::export::{export_plan, ExportFormat};
use kring_plan::followup::{self, MyWeek};
use kring_plan::plan::{CircleId, Language, MemberId, PlanView};
use kring_trust::invite::LinkCard;
use kring_trust::time::Timestamp;

use super::Device;

impl Device {
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
