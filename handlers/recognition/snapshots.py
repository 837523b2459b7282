"""The official result of a closed campaign: immutable snapshot versions that re-run byte for byte.

Version 1 is taken at close; a correction adds the next version with its reason. Each version
freezes the flag and check ids and the priors it was computed from (docs/method/closing.md §3).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.recognition import RecognitionConfig, default_config
from handlers.recognition.cohort_index import GroupPrior, Priors
from handlers.recognition.estimator_inputs import AsOf
from handlers.recognition.report import canonical, compute_report, latest_snapshot
from models.recognition import Campaign, RecognitionCheck, RecognitionFlag, RecognitionSnapshot


def priors_from_json(data: dict[str, Any]) -> Priors:
    return Priors(
        groups={
            g: GroupPrior(v["p0"], v["mu0"], v["sigma"], v["m_reputation"], v["source"])
            for g, v in data["groups"].items()
        },
        m_awareness=data["m_awareness"],
    )


def _correction(snap_version: int, reason: str | None, previous_sha: str | None) -> dict[str, Any] | None:
    if snap_version <= 1:
        return None
    return {"version": snap_version, "reason": reason, "previous_sha256": previous_sha}


def take_snapshot(
    session: Session,
    campaign: Campaign,
    cfg: RecognitionConfig | None = None,
    reason: str | None = None,
    actor: str | None = None,
) -> RecognitionSnapshot:
    """The official, immutable result: canonical JSON with its sha256 (docs/method/closing.md §3).

    Without a reason this is version 1 (taken once, at close). With a reason it is a correction:
    the next version, computed from the flags and checks as they are now; earlier versions stay.
    """
    cfg = cfg or default_config()
    previous = latest_snapshot(session, campaign)
    if previous is not None and reason is None:
        return previous
    # Frozen inputs: the flags and checks written up to now (the campaign row is locked by the caller).
    as_of = AsOf(
        session.scalar(select(func.max(RecognitionFlag.id))) or 0,
        session.scalar(select(func.max(RecognitionCheck.id))) or 0,
    )
    version = previous.version + 1 if previous is not None else 1
    correction = _correction(version, reason, previous.sha256 if previous else None)
    body = canonical(compute_report(session, campaign, cfg, as_of=as_of, correction=correction))
    snap = RecognitionSnapshot(
        campaign_id=campaign.id,
        version=version,
        reason=reason,
        created_by=actor,
        cutoff_flag_id=as_of.flag_id,
        cutoff_check_id=as_of.check_id,
        method_version=cfg.version,
        config_digest=cfg.digest,
        body=body,
        sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
    )
    session.add(snap)
    session.flush()
    return snap


def reproduce_snapshot(
    session: Session, snap: RecognitionSnapshot, cfg: RecognitionConfig | None = None
) -> str:
    """Recompute a snapshot's body from the events with its frozen priors and cutoffs (audit re-run)."""
    campaign = session.get(Campaign, snap.campaign_id)
    assert campaign is not None
    frozen = priors_from_json(json.loads(snap.body)["priors"])
    as_of = (
        AsOf(snap.cutoff_flag_id, snap.cutoff_check_id)
        if snap.cutoff_flag_id is not None or snap.cutoff_check_id is not None
        else None
    )
    previous = session.scalar(
        select(RecognitionSnapshot.sha256).where(
            RecognitionSnapshot.campaign_id == snap.campaign_id,
            RecognitionSnapshot.version == snap.version - 1,
        )
    )
    correction = _correction(snap.version, snap.reason, previous)
    return canonical(
        compute_report(session, campaign, cfg, priors=frozen, as_of=as_of, correction=correction)
    )
