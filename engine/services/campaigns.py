"""The Marketing Campaign catalogue that activities associate with (primary campaign → sub-campaigns)."""

from pydantic import BaseModel
from sqlmodel import Session, select

from engine.models import MarketingCampaign, User


class CampaignNode(BaseModel):
    id: int
    name: str
    subs: list["CampaignNode"] = []


def list_catalogue(*, session: Session, actor: User) -> list[CampaignNode]:
    rows = session.exec(select(MarketingCampaign).where(MarketingCampaign.workspace_id == actor.workspace_id)
                        .order_by(MarketingCampaign.name)).all()
    primaries = {c.id: CampaignNode(id=c.id, name=c.name) for c in rows if c.parent_id is None}
    for c in rows:
        if c.parent_id in primaries:
            primaries[c.parent_id].subs.append(CampaignNode(id=c.id, name=c.name))
    return list(primaries.values())
