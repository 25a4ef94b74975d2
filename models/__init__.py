"""SQLAlchemy 2.0 data model of synth; Alembic migrations live in ``models/migrations``."""

from models.access import ApiKey, Job
from models.actions import ACTION_STATUSES, Action
from models.base import Base
from models.entities import (
    EmbeddingCacheItem,
    Entry,
    Network,
    Organisation,
    Passage,
    PassageDeletion,
    Project,
    Tag,
    entry_tags,
    organisation_networks,
)
from models.measures import Measure, MeasureAnnotation, Observation
from models.outcomes import OutcomeSentence
from models.topics import PassageTopic, Theme, Topic, TopicRun

__all__ = [
    "ACTION_STATUSES",
    "Action",
    "ApiKey",
    "Base",
    "EmbeddingCacheItem",
    "Entry",
    "Job",
    "Measure",
    "MeasureAnnotation",
    "Network",
    "Observation",
    "Organisation",
    "OutcomeSentence",
    "Passage",
    "PassageDeletion",
    "PassageTopic",
    "Project",
    "Tag",
    "Theme",
    "Topic",
    "TopicRun",
    "entry_tags",
    "organisation_networks",
]
