"""Choosing sub-activities (the Marketing Campaign catalogue): a primary campaign stands for all its subs.

A mixin, so the list's filter and the New activity dialog each keep their own selection with the same rules.
The catalogue is small (a few primaries with their subs) and loaded with the page or the dialog.
"""

from dataclasses import dataclass, field

import reflex as rx

from engine.services.campaigns import CampaignNode


@dataclass
class SubCampaign:
    id: int = 0
    name: str = ""


@dataclass
class PrimaryCampaign:
    id: int = 0
    name: str = ""
    subs: list[SubCampaign] = field(default_factory=list)


def to_options(nodes: list[CampaignNode]) -> list[PrimaryCampaign]:
    return [PrimaryCampaign(id=p.id, name=p.name, subs=[SubCampaign(id=s.id, name=s.name) for s in p.subs])
            for p in nodes]


class CampaignChoice(rx.State, mixin=True):
    catalogue: list[PrimaryCampaign] = []
    campaign_ids: list[int] = []

    @rx.var
    def full_primaries(self) -> list[int]:
        """Primaries whose every sub-campaign is chosen (their box shows checked)."""
        chosen = set(self.campaign_ids)
        return [p.id for p in self.catalogue if p.subs and all(s.id in chosen for s in p.subs)]

    @rx.var
    def partial_primaries(self) -> list[int]:
        chosen = set(self.campaign_ids)
        return [p.id for p in self.catalogue
                if any(s.id in chosen for s in p.subs) and not all(s.id in chosen for s in p.subs)]

    @rx.var
    def campaign_summary(self) -> str:
        names = {s.id: s.name for p in self.catalogue for s in p.subs}
        chosen = [names[i] for i in self.campaign_ids if i in names]
        if not chosen:
            return ""
        return chosen[0] if len(chosen) == 1 else f"{chosen[0]} +{len(chosen) - 1}"

    async def _campaigns_changed(self):
        """Hook: the list re-queries; the dialog does nothing."""
        return None

    @rx.event
    async def toggle_primary(self, primary_id: int):
        primary = next((p for p in self.catalogue if p.id == primary_id), None)
        if primary is None:
            return None
        subs = [s.id for s in primary.subs]
        if all(i in self.campaign_ids for i in subs):
            self.campaign_ids = [i for i in self.campaign_ids if i not in subs]
        else:
            self.campaign_ids = self.campaign_ids + [i for i in subs if i not in self.campaign_ids]
        return await self._campaigns_changed()

    @rx.event
    async def toggle_sub(self, sub_id: int):
        if sub_id in self.campaign_ids:
            self.campaign_ids = [i for i in self.campaign_ids if i != sub_id]
        else:
            self.campaign_ids = self.campaign_ids + [sub_id]
        return await self._campaigns_changed()

    @rx.event
    async def clear_campaigns(self):
        if not self.campaign_ids:
            return None
        self.campaign_ids = []
        return await self._campaigns_changed()
