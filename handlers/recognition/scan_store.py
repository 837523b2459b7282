"""The scan's database side: the store over the event table and the bin table, the checkpoint
with its per-campaign lock, and the run (``run_scan``) that writes the changed flags (``scan_flags``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from config.recognition import RecognitionConfig
from handlers.recognition.detection import SUBMISSION_KINDS, WEB_FAMILIES, Ev, Sig
from handlers.recognition.scan import Scanner
from handlers.recognition.scan_bins import COUNTS
from handlers.recognition.scan_flags import CHUNK, apply_flags
from handlers.recognition.scan_memory import MemoryStore
from models import Brand, Union
from models.recognition import Campaign, CampaignBrand, RecognitionEvent
from models.recognition_scan import RecognitionScanBin, RecognitionScanState
from models.recognition_web import RecognitionWebSignal

E, B, W = RecognitionEvent, RecognitionScanBin, RecognitionWebSignal
EV_COLS = (
    E.id,
    E.identity_hash,
    E.brand_id,
    E.kind,
    E.channel,
    E.src_brand_id,
    E.submitted_at,
    E.identity_first_seen_at,
    E.q1,
    E.union_path,
)
# The identity and brand columns are the events' own (the first six of EV_COLS).
SIG_COLS = (
    *EV_COLS[:6],
    E.union_path,
    E.cadre,
    E.submitted_at,
    W.ip_prefix,
    W.province,
    W.idc,
    W.device_hash,
)


def _evs(rows: Any) -> list[Ev]:
    return [Ev(*row) for row in rows]


def _sigs(rows: Any) -> list[Sig]:
    return [Sig(*row) for row in rows]


def signal_query(campaign_id: int) -> Any:
    """The campaign's events that carry a web signal, as ``Sig`` rows."""
    return select(*SIG_COLS).join(E, E.id == W.event_id).where(W.campaign_id == campaign_id)


class DbStore:
    def __init__(self, session: Session, campaign_id: int) -> None:
        self.s = session
        self.cid = campaign_id

    def _insert(self) -> Any:
        return (postgresql if self.s.get_bind().dialect.name == "postgresql" else sqlite).insert(B)

    def add_bins(
        self, rows: dict[tuple[int, int, int], list[int]], fires: set[tuple[int, int, int]] | None = None
    ) -> None:
        values = [
            {
                "campaign_id": self.cid,
                "scale": k[0],
                "brand_id": k[1],
                "bin": k[2],
                "fires": k in (fires or ()),
            }
            | dict(zip(COUNTS, v, strict=True))
            for k, v in sorted(rows.items())
        ]
        if fires is not None:  # a full re-scan writes into an emptied table: plain bulk insert
            if values:
                self.s.execute(insert(B), values)
            return
        if values:  # one cached statement, many parameter sets (batched by the driver)
            stmt = self._insert()
            stmt = stmt.on_conflict_do_update(
                index_elements=["campaign_id", "scale", "brand_id", "bin"],
                set_={c: getattr(B, c) + getattr(stmt.excluded, c) for c in COUNTS},
            )
            self.s.execute(stmt, values)

    def bins(self, scale: int, brand: int, lo: int, hi: int) -> dict[int, tuple[list[int], bool]]:
        rows = self.s.execute(
            select(B.bin, *(getattr(B, c) for c in COUNTS), B.fires).where(
                B.campaign_id == self.cid, B.scale == scale, B.brand_id == brand, B.bin >= lo, B.bin < hi
            )
        )
        out = {row[0]: (list(row[1:-1]), bool(row[-1])) for row in rows}
        if hi - lo == 1 and lo not in out:
            out[lo] = ([0] * len(COUNTS), False)
        return out

    def candidates(self, scale: int, lo: int, hi: int, min_count: int) -> list[tuple[int, int, int]]:
        rows = self.s.execute(
            select(B.brand_id, B.bin, B.n).where(
                B.campaign_id == self.cid,
                B.scale == scale,
                B.brand_id != 0,
                B.bin >= lo,
                B.bin <= hi,
                B.n >= min_count,
            )
        )
        return [(a, b, c) for a, b, c in rows]

    def set_fires(self, scale: int, brand: int, b: int, fires: bool) -> None:
        self.s.execute(
            update(B)
            .where(B.campaign_id == self.cid, B.scale == scale, B.brand_id == brand, B.bin == b)
            .values(fires=fires)
        )

    def firing(self, scale: int, lo: int, hi: int) -> list[tuple[int, int]]:
        rows = self.s.execute(
            select(B.brand_id, B.bin).where(
                B.campaign_id == self.cid, B.scale == scale, B.fires.is_(True), B.bin >= lo, B.bin <= hi
            )
        )
        return [(a, b) for a, b in rows]

    def _base(self) -> Any:
        return select(*EV_COLS).where(E.campaign_id == self.cid)

    def events_between(self, lo: datetime, hi: datetime, brand: int | None = None) -> list[Ev]:
        q = self._base().where(E.submitted_at >= lo, E.submitted_at < hi, E.kind.in_(SUBMISSION_KINDS))
        if brand is not None:
            q = q.where(E.brand_id == brand)
        return _evs(self.s.execute(q))

    def identity_events(self, idents: Sequence[str], lo: datetime, hi: datetime) -> list[Ev]:
        out: list[Ev] = []
        for i in range(0, len(idents), CHUNK):
            q = self._base().where(
                E.identity_hash.in_(idents[i : i + CHUNK]), E.submitted_at >= lo, E.submitted_at <= hi
            )
            out += _evs(self.s.execute(q))
        return out

    def first_activity(self, idents: Sequence[str]) -> dict[str, datetime]:
        out: dict[str, datetime] = {}
        for i in range(0, len(idents), CHUNK):
            q = (
                select(E.identity_hash, func.min(E.submitted_at))
                .where(E.campaign_id == self.cid, E.identity_hash.in_(idents[i : i + CHUNK]))
                .group_by(E.identity_hash)
            )
            out.update({a: b for a, b in self.s.execute(q)})
        return out

    def typed_extreme(self, brands: Sequence[int], lo: datetime, hi: datetime) -> list[Ev]:
        q = self._base().where(
            E.kind == "rating",
            E.channel == "self",
            E.q1.in_((1, 5)),
            E.brand_id.in_(list(brands)),
            E.submitted_at >= lo,
            E.submitted_at <= hi,
        )
        return _evs(self.s.execute(q))

    def ring_events(self, lo: datetime, hi: datetime) -> list[Ev]:
        q = self._base().where(
            E.kind.in_(SUBMISSION_KINDS),
            E.channel == "brand",
            E.union_path.is_not(None),
            E.submitted_at >= lo,
            E.submitted_at <= hi,
        )
        return _evs(self.s.execute(q))

    def device_signals(self, devices: Sequence[str]) -> list[Sig]:
        out: list[Sig] = []
        for i in range(0, len(devices), CHUNK):
            q = signal_query(self.cid).where(W.device_hash.in_(devices[i : i + CHUNK]))
            out += _sigs(self.s.execute(q))
        return out

    def identity_signals(self, idents: Sequence[str], lo: datetime, hi: datetime) -> list[Sig]:
        out: list[Sig] = []
        for i in range(0, len(idents), CHUNK):
            q = signal_query(self.cid).where(
                E.identity_hash.in_(idents[i : i + CHUNK]), E.submitted_at >= lo, E.submitted_at <= hi
            )
            out += _sigs(self.s.execute(q))
        return out

    def brand_signals(self, brand: int) -> list[Sig]:
        q = signal_query(self.cid).where(E.brand_id == brand, E.kind.in_(SUBMISSION_KINDS))
        return _sigs(self.s.execute(q))


def _state(session: Session, campaign_id: int, now: datetime) -> RecognitionScanState:
    """The checkpoint row, locked for this transaction: one scan per campaign at a time (a
    second job waits here and then finds only what arrived meanwhile)."""
    ins = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert(
        RecognitionScanState
    )
    session.execute(
        ins.values(
            campaign_id=campaign_id, last_event_id=0, rules_version="", updated_at=now
        ).on_conflict_do_nothing()
    )
    state = session.scalars(
        select(RecognitionScanState)
        .where(RecognitionScanState.campaign_id == campaign_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return state


def run_scan(
    session: Session, campaign: Campaign, now: datetime, cfg: RecognitionConfig, full: bool = False
) -> dict[str, int]:
    """Scan the events that arrived since the checkpoint (all of them when ``full``, or when the
    rules' version changed), write the flags that changed, move the checkpoint."""
    state = _state(session, campaign.id, now)
    if full or state.rules_version != cfg.anti_fraud_version:
        session.execute(delete(B).where(B.campaign_id == campaign.id))
        state.last_event_id, full = 0, True
    new = _evs(
        session.execute(
            select(*EV_COLS).where(E.campaign_id == campaign.id, E.id > state.last_event_id).order_by(E.id)
        )
    )
    if not new:
        state.rules_version = cfg.anti_fraud_version
        return {}
    # Signals are attached in the transaction that recorded their event, so they are as new.
    signals = _sigs(session.execute(signal_query(campaign.id).where(W.event_id > state.last_event_id)))
    paths = {
        b: p
        for b, p in session.execute(
            select(CampaignBrand.brand_id, Union.path)
            .join(Brand, Brand.id == CampaignBrand.brand_id)
            .join(Union, Union.id == Brand.union_id)
            .where(CampaignBrand.campaign_id == campaign.id)
        )
    }
    if full:
        # One read of the campaign, judged in memory; the windowed state is then stored for
        # the incremental runs that follow.
        memory = MemoryStore(new, signals)
        result = Scanner(memory, paths, cfg).run(new, signals)
        DbStore(session, campaign.id).add_bins(memory.rows, memory.fires)
        every = {e.id for e in new}
        # Stale flags are compared too; for the web rules only on events that still have their
        # signal: one purged after the retention period keeps the flags it had.
        result.scope = {rules: ids if rules in WEB_FAMILIES else every for rules, ids in result.scope.items()}
    else:
        result = Scanner(DbStore(session, campaign.id), paths, cfg).run(new, signals)
    written = apply_flags(session, result.wanted, result.scope, cfg, now, campaign.id if full else None)
    state.last_event_id = max(e.id for e in new)
    state.rules_version = cfg.anti_fraud_version
    state.updated_at = now
    return written
