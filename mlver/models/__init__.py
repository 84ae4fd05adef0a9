"""The frozen dataclasses the api returns and the CLI renders.

``from mlver.models import X`` works for every class; each class's module
is imported on first use (PEP 562), so a command builds only the
dataclasses it returns (building all of them took ~20 ms of every start-up).
"""
from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing costs ~5 ms of every start-up; type checkers know this idiom

_WHERE = {
    "InitResult": "setup",
    "DataAddResult": "setup",
    "ModelAddResult": "setup",
    "Record": "registry",
    "RecordResult": "setup",
    "ReleaseResult": "registry",
    "ModelSummary": "registry",
    "LogEvent": "registry",
    "Shown": "registry",
    "ModelDiff": "review",
    "ValueChange": "diff",
    "EnvChange": "diff",
    "MetricChange": "diff",
    "DataChange": "diff",
    "ArtifactChange": "diff",
    "FileChange": "diff",
    "CodeChange": "diff",
    "TransferResult": "transfer",
    "SentObject": "transfer",
    "PulledFile": "transfer",
    "PullResult": "transfer",
    "RegistryWrite": "governance",
    "Finding": "governance",
    "VerifyResult": "governance",
    "ReproduceResult": "governance",
    "ArtifactCheck": "governance",
    "MetricCheck": "governance",
    "Card": "governance",
    "GateResult": "review",
    "ReviewResult": "review",
    "DriftResult": "review",
    "CiWorkflow": "review",
    "RemoteInfo": "transfer",
    "RemoteCheck": "transfer",
    "PresignedUrl": "transfer",
    "GcFreed": "transfer",
    "GcStore": "transfer",
    "GcResult": "transfer",
    "Pending": "governance",
    "ModelStatus": "governance",
    "StatusResult": "governance",
    "MetricCell": "views",
    "DataInput": "views",
    "ParamChange": "diff",
    "VersionRow": "views",
    "VersionsTable": "views",
    "Lineage": "views",
    "LineageNode": "views",
    "LineageEdge": "views",
    "SiteResult": "views",
}
__all__ = [
    "ArtifactChange", "ArtifactCheck", "Card", "CiWorkflow", "CodeChange", "DataAddResult", "DataChange", "DataInput", "DriftResult",
    "EnvChange", "FileChange", "Finding", "GateResult", "GcFreed", "GcResult", "GcStore", "InitResult", "Lineage",
    "LineageEdge", "LineageNode", "LogEvent", "MetricCell", "MetricChange", "MetricCheck", "ModelAddResult", "ModelDiff",
    "ModelStatus", "ModelSummary", "ParamChange", "Pending", "PresignedUrl", "PullResult", "PulledFile", "Record",
    "RecordResult", "RegistryWrite", "ReleaseResult", "RemoteCheck", "RemoteInfo", "ReproduceResult", "ReviewResult",
    "SentObject", "Shown", "SiteResult", "StatusResult", "TransferResult", "ValueChange", "VerifyResult", "VersionRow",
    "VersionsTable",
]  # a literal, for linters; equal to sorted(_WHERE) (tested)

if TYPE_CHECKING:
    from mlver.models.diff import (
        ArtifactChange,
        CodeChange,
        DataChange,
        EnvChange,
        FileChange,
        MetricChange,
        ParamChange,
        ValueChange,
    )
    from mlver.models.governance import (
        ArtifactCheck,
        Card,
        Finding,
        MetricCheck,
        ModelStatus,
        Pending,
        RegistryWrite,
        ReproduceResult,
        StatusResult,
        VerifyResult,
    )
    from mlver.models.registry import LogEvent, ModelSummary, Record, ReleaseResult, Shown
    from mlver.models.review import CiWorkflow, DriftResult, GateResult, ModelDiff, ReviewResult
    from mlver.models.setup import DataAddResult, InitResult, ModelAddResult, RecordResult
    from mlver.models.transfer import (
        GcFreed,
        GcResult,
        GcStore,
        PresignedUrl,
        PulledFile,
        PullResult,
        RemoteCheck,
        RemoteInfo,
        SentObject,
        TransferResult,
    )
    from mlver.models.views import (
        DataInput,
        Lineage,
        LineageEdge,
        LineageNode,
        MetricCell,
        SiteResult,
        VersionRow,
        VersionsTable,
    )


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module 'mlver.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mlver.models.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
