"""Houqin's domain: entities and the operations on them. No web, bot or scheduler imports."""

from models.actions import ActionEvent, CorrectiveAction
from models.addresses import ChannelAccount
from models.assets import Asset, AssetKind, Label
from models.audit import AuditEntry
from models.base import Base
from models.checklist_roles import ChecklistRoles
from models.checklists import FormTemplate
from models.conversations import ConversationState
from models.documents import Document
from models.duties import CalendarEntry, Duty, Task
from models.flag_notes import FlagNote
from models.food_safety import FoodSafetyReport
from models.food_samples import SampleDisposal
from models.linking import LinkCode
from models.login_sessions import LoginSession
from models.notice_preferences import ChannelPreference, QuietHours
from models.notifications import Delivery, Notification
from models.orders import SupplyOrder
from models.org import District, Location, School
from models.people import Person, Role, RoleGrant
from models.photos import Photo, RecordPhoto
from models.public_reports import PublicReport
from models.published_scores import PublishedScore
from models.records import Record
from models.score import ScoreScheme
from models.stored_files import StoredFile
from models.suppliers import Supplier
from models.sweep import SweepMark
from models.throttle import LoginFailure
from models.training import TrainingSession
from models.trips import Trip

__all__ = [
    "ActionEvent",
    "Asset",
    "AssetKind",
    "AuditEntry",
    "Base",
    "CalendarEntry",
    "ChannelAccount",
    "ChannelPreference",
    "ChecklistRoles",
    "ConversationState",
    "CorrectiveAction",
    "Delivery",
    "District",
    "Document",
    "Duty",
    "FlagNote",
    "FoodSafetyReport",
    "FormTemplate",
    "Label",
    "LinkCode",
    "Location",
    "LoginFailure",
    "LoginSession",
    "Notification",
    "Person",
    "Photo",
    "PublicReport",
    "PublishedScore",
    "QuietHours",
    "Record",
    "RecordPhoto",
    "Role",
    "RoleGrant",
    "SampleDisposal",
    "School",
    "ScoreScheme",
    "StoredFile",
    "Supplier",
    "SupplyOrder",
    "SweepMark",
    "Task",
    "TrainingSession",
    "Trip",
]
