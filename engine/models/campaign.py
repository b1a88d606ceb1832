from sqlmodel import Field, SQLModel


class MarketingCampaign(SQLModel, table=True):
    """The Marketing Campaign catalogue: primary campaigns (parent_id NULL) and their sub-campaigns.
    Activities associate with sub-campaigns (many-to-many through ActivityCampaignLink)."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="marketingcampaign.id", index=True)
    name: str = Field(max_length=60)
