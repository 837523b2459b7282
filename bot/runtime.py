"""Everything a process needs, built once from settings: engine, store, queue, API, pipeline."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import current
from bot.capabilities import Capabilities, capabilities
from bot.jobs import QUEUE_PREFIX, InlineQueue, RQQueue, Transport, parse_delays
from bot.outbox import Outbox
from bot.pipeline import LEASE_S, Pipeline
from bot.replay import ReplayGuard
from bot.router_cache import RouterCache
from bot.store import CircuitBreaker, MemoryStore, RedisStore, Store
from bot.subscribe_web import ConsentLinkSigner
from bot.wechat.api import WeChatApiClient
from bot.wechat.crypto import MessageCrypto
from bot.wechat.token import TokenService
from config.settings import Settings
from handlers.anonymity import anonymity_key, set_anonymity_key
from handlers.ports import Channels, WeChatApi
from handlers.programme.binding import member_card_salt, set_member_salt
from handlers.registry import Registry
from handlers.wiring import build_registry
from models.db import make_engine, make_read_engine, make_session_factory
from nlp import Router


def dedupe_secret(secret_key: str) -> bytes:
    """The key of the inbound duplicate hash (Redis key and ``inbound_message.dedupe_key``)."""
    return hmac.new(secret_key.encode("utf-8"), b"ghpp inbound dedupe key", hashlib.sha256).digest()


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        store: Store | None = None,
        queue: Transport | None = None,
        api: WeChatApi | None = None,
    ) -> None:
        self.settings = settings
        self.capabilities: Capabilities = capabilities(settings)
        for line in self.capabilities.startup_lines():
            logging.getLogger("ghpp.startup").warning(line)
        # The consent link of one-time subscription messages, when that channel is on.
        caps = self.capabilities
        self.consent_links: ConsentLinkSigner | None = None
        if caps.subscribe_message and caps.subscribe_template_id and settings.public_base_url:
            self.consent_links = ConsentLinkSigner(
                settings.secret_key,
                settings.wechat_appid,
                caps.subscribe_template_id,
                settings.public_base_url,
            )
        # What handlers and jobs may send: never a feature the account cannot use.
        self.channels: Channels = caps.channels(self.consent_links)
        # jieba's dictionary loads here, once per process, not on the first message.
        Router.warm_up(settings.instance_dir / "cache" / "jieba")
        # GHPP_PGBOUNCER=1: the database URLs point at PgBouncer in transaction mode.
        pgbouncer = settings.extra.get("GHPP_PGBOUNCER") == "1"
        self.engine = engine or make_engine(settings.database_url, pgbouncer=pgbouncer)
        self._pid = os.getpid()
        self.session_factory: sessionmaker[Session] = make_session_factory(self.engine)
        # Dashboard reads that may lag the primary by a moment (DATABASE_READ_URL: a replica).
        self.read_engine: Engine | None = None
        self.read_session_factory = self.session_factory
        if settings.database_read_url:
            self.read_engine = make_read_engine(settings.database_read_url, pgbouncer=pgbouncer)
            self.read_session_factory = make_session_factory(self.read_engine)
        if store is not None:
            self.store: Store = store
        elif settings.redis_url:
            self.store = RedisStore.from_url(settings.redis_url)
        else:
            self.store = MemoryStore()
        self.replay = ReplayGuard(self.store, self.session_factory, settings.replay_window_s)
        self.tokens = TokenService(
            self.store, settings.wechat_appid, settings.wechat_secret, settings.wechat_api_base
        )
        if api is None and settings.extra.get("GHPP_SIMULATE_WECHAT") == "1":
            from bot.simulator import SimulatedWeChatApi

            api = SimulatedWeChatApi(printer=logging.getLogger("simulator").info)
        self.api: WeChatApi = api or WeChatApiClient(
            self.tokens, settings.wechat_appid, settings.wechat_secret, settings.wechat_api_base
        )
        # One breaker for the store and the queue: they are the same Redis.
        breaker = self.store.breaker if isinstance(self.store, RedisStore) else CircuitBreaker()
        self.queue_prefix = settings.extra.get("GHPP_QUEUE_PREFIX") or QUEUE_PREFIX
        if queue is not None:
            self.transport: Transport = queue
        elif settings.redis_url:
            self.transport = RQQueue(
                settings.redis_url,
                prefix=self.queue_prefix,
                retry_delays_s=parse_delays(settings.extra.get("GHPP_JOB_RETRY_DELAYS")),
                breaker=breaker,
            )
        else:
            self.transport = InlineQueue(lambda: self)
        # Every job goes through the outbox; the transports above only carry them.
        self.queue = Outbox(self.session_factory, self.transport, prefix=self.queue_prefix, breaker=breaker)
        self.crypto = (
            MessageCrypto(
                settings.wechat_token,
                settings.wechat_appid,
                settings.wechat_aes_key,
                settings.wechat_aes_key_previous,
            )
            if settings.wechat_aes_key
            else None
        )
        self.job_options: dict[str, Any] = {
            "media_dir": str(settings.instance_dir / "media"),
            **settings.extra,
        }
        # Member card numbers are kept only as HMACs keyed from SECRET_KEY (issue 6).
        set_member_salt(member_card_salt(settings.secret_key))
        # Access codes, anonymous quota, held replies, rating event keys (anonymous suggestions).
        set_anonymity_key(anonymity_key(settings.secret_key))
        self.routers = RouterCache()
        # Every domain's chat handlers, jobs and hooks, from the one list in handlers/wiring.py.
        self.registry: Registry = build_registry()
        self.pipeline = Pipeline(
            self.session_factory,
            self.store,
            self.queue,
            self.routers,
            budget_s=settings.reply_budget_s,
            dedupe_ttl_s=settings.dedupe_ttl_s,
            dedupe_secret=dedupe_secret(settings.secret_key),
            lease_s=float(settings.extra.get("GHPP_DEDUPE_LEASE_S") or LEASE_S),
            registry=self.registry,
            channels=self.channels,
        )

    def after_fork(self) -> None:
        """In a forked job process (RQ's work horse): never reuse the parent's DB connections."""
        if os.getpid() != self._pid:
            self.engine.dispose(close=False)
            if self.read_engine is not None:
                self.read_engine.dispose(close=False)
            self._pid = os.getpid()

    def make_current(self) -> Runtime:
        return current.set_current(self)

    @staticmethod
    def current() -> Runtime:
        return current.current()
