"""The Marketing Campaign catalogue that activities associate with (primary campaign → sub-campaigns)."""

from pydantic import BaseModel
from sqlmodel import Session, select

from engine.models import MarketingCampaign, User, row_id


class CampaignNode(BaseModel):
    id: int
    name: str
    subs: list["CampaignNode"] = []


def list_catalogue(*, session: Session, actor: User) -> list[CampaignNode]:
    rows = session.exec(select(MarketingCampaign).where(MarketingCampaign.workspace_id == actor.workspace_id)
                        .order_by(MarketingCampaign.name)).all()
    primaries = {c.id: CampaignNode(id=row_id(c), name=c.name) for c in rows if c.parent_id is None}
    for c in rows:
        if c.parent_id in primaries:
            primaries[c.parent_id].subs.append(CampaignNode(id=row_id(c), name=c.name))
    return list(primaries.values())
