"""SQLModel tables. Import from here: `from engine.models import Activity`."""

from engine.models.ab_decision import AbDecision as AbDecision
from engine.models.activity import Activity, ActivityCampaignLink, Schedule
from engine.models.api_key import ApiKey
from engine.models.approval import ActivityTester, ApprovalEvent, ApprovalEventKind, ApprovalRequest
from engine.models.campaign import MarketingCampaign
from engine.models.channel_setting import ChannelSetting as ChannelSetting
from engine.models.consent import ConsentChange as ConsentChange
from engine.models.consent import ConsentSource as ConsentSource
from engine.models.consent import ConsentStatus as ConsentStatus
from engine.models.consent import CustomerConsent as CustomerConsent
from engine.models.crowd import CrowdOperation as CrowdOperation
from engine.models.customer import Audience, AudienceKind, AudienceMember, BehaviorEvent, Customer, CustomerTag
from engine.models.execution import CustomerRoute, CustomerStep, NodeCounter
from engine.models.frequency_cap import FrequencyCap as FrequencyCap
from engine.models.goal import ActivityGoal, GoalConversion
from engine.models.group import ActivityGroup
from engine.models.identity import DatabaseIdentity
from engine.models.inbox import InboxItem, InboxKind
from engine.models.message_template import MessageTemplate as MessageTemplate
from engine.models.moderation import BannedWord as BannedWord
from engine.models.normal_task import NormalTask as NormalTask
from engine.models.normal_task import NormalTaskStatus as NormalTaskStatus
from engine.models.outbound import OutboundAllow
from engine.models.pacing import ActivityPacing, ChannelRateLimit
from engine.models.process import Process, VersionAudience
from engine.models.reach_task import ReachTaskRow as ReachTaskRow
from engine.models.record import ExecutionRecord, RecordTrigger
from engine.models.rows import HasId, pk_ids, row_id, table_of
from engine.models.secret import SecretValue
from engine.models.segment import AnonymousEvent, AnonymousLink, EventMessage
from engine.models.user import AuthSession, Role, User, UserPreference
from engine.models.version import ActivityVersion
from engine.models.workspace import Workspace

__all__ = [
    "Activity", "ActivityCampaignLink", "Audience", "AudienceKind", "AudienceMember", "BehaviorEvent", "Customer",
    "CustomerRoute", "CustomerStep", "CustomerTag", "DatabaseIdentity", "InboxItem", "InboxKind",
    "NodeCounter", "OutboundAllow", "ActivityGroup", "ActivityVersion", "AuthSession",
    "ExecutionRecord", "MarketingCampaign", "RecordTrigger", "Role", "Schedule", "SecretValue", "User",
    "UserPreference", "Process", "VersionAudience",
    "Workspace", "HasId", "pk_ids", "row_id", "table_of",
    "ActivityTester", "ApprovalEvent", "ApprovalEventKind", "ApprovalRequest",
    "ApiKey", "AnonymousEvent", "AnonymousLink", "EventMessage",
    "ActivityPacing", "ChannelRateLimit",
    "ActivityGoal", "GoalConversion",
]
