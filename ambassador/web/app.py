"""The application factory: the only module that wires every layer together."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.middleware.session.server_side import ServerSideSessionBackend
from litestar.security.session_auth import SessionAuth
from litestar.static_files import create_static_files_router
from litestar.stores.base import StorageObject, Store
from litestar.stores.file import FileStore
from litestar.stores.registry import StoreRegistry

from ambassador import db, honour, metrics, requestcontext
from ambassador.domain import accounts, audit, audit_anchors, login_limits, nominations, outbox
from ambassador.domain import sessions as session_registry
from ambassador.domain.accounts import Account
from ambassador.domain.login_limits import ThrottlePolicy
from ambassador.domain.uploads import UploadRules
from ambassador.errors import NotFound
from ambassador.logs import configure_logging
from ambassador.passwords import Passwords
from ambassador.resources import STATIC_DIR
from ambassador.settings import Settings, load_settings
from ambassador.web import (
    about,
    account,
    admin,
    approval,
    archive,
    auth,
    categories,
    deliberation,
    documents,
    drafts,
    editions,
    formal_check,
    jury,
    jury_admin,
    jury_conflicts,
    jury_invites,
    laureates,
    nominate,
    nomination_links,
    opendata,
    portraits,
    privacy,
    public,
    results,
    staff,
)
from ambassador.web.cache import ArchiveCache, ArchiveCacheMiddleware
from ambassador.web.client import ForwardedMiddleware
from ambassador.web.csp_report import CspReportController, ReportBudget
from ambassador.web.csrf import CsrfMiddleware, csrf_config
from ambassador.web.errors import http_exception_handler, internal_error_handler, not_found_handler
from ambassador.web.front import front_door
from ambassador.web.language import set_language
from ambassador.web.middleware import make_security_headers_hook, request_log
from ambassador.web.page_cache import PageCache, PageCacheMiddleware
from ambassador.web.sessions import RotatingSessionConfig, SessionRotation, session_policy
from ambassador.web.static import static_routes
from ambassador.web.stepup import StepUpRequired, step_up_redirect
from ambassador.web.stores import DatabaseStore
from ambassador.web.templating import template_config

log = logging.getLogger("ambassador.app")

MAINTENANCE_EVERY_SECONDS = 300
MAINTENANCE_TICK_SECONDS = 5.0
SENDER_STOP_SECONDS = 10.0


def _root_store(settings: Settings) -> Store:
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.redis_url, namespace="ambassador")
    return DatabaseStore("ambassador")


class CounterFiles(FileStore):
    """The rate-limit counters' files, written with one trip to a thread instead of two.

    Litestar's ``FileStore.set`` makes the directory (a trip to a thread) before each write (a
    second trip), under the rate limiter's lock that every form submission waits for. Here the
    directory is made when the app starts, and again by the writing thread itself should it
    have gone (a write into a missing directory would be lost silently, and the limit with it).
    """

    async def set(self, key: str, value: str | bytes, expires_in: int | dt.timedelta | None = None) -> None:
        data = value.encode("utf-8") if isinstance(value, str) else value
        await self._write(self._path_from_key(key), StorageObject.new(data=data, expires_in=expires_in))

    def _write_sync(self, target_file: Any, storage_obj: StorageObject) -> None:
        directory = Path(self.path)  # a plain path: this runs in the writing thread
        if not directory.is_dir():
            directory.mkdir(parents=True, exist_ok=True)
        super()._write_sync(target_file, storage_obj)


def _machine_stores(settings: Settings) -> dict[str, Store]:
    """On SQLite (one machine by construction), the form's rate-limit counters are files.

    Every submission reads and writes its client's counter before the form is handled; in
    the database that write would queue with the nominations' own writes (SQLite has one
    writer). Files in the var directory are shared by every worker of the machine and kept
    across restarts, as the database would keep them. With PostgreSQL (possibly several
    machines) they stay in the shared store: Redis or the database.
    """
    if settings.redis_url or not settings.is_sqlite:
        return {}
    directory = settings.var_dir / "rate-limits"
    # Made now: the store creates it only on its first write, and the maintenance's sweep of
    # expired counters would fail on a missing directory until the first nomination.
    directory.mkdir(parents=True, exist_ok=True)
    counters = CounterFiles(directory, create_directories=True)
    return {nominate.RATE_LIMIT_STORE: counters}


def session_config(settings: Settings) -> RotatingSessionConfig:
    return RotatingSessionConfig(
        key="__Host-session" if settings.production else "session",
        max_age=settings.session_idle_seconds,
        secure=settings.production,
        httponly=True,
        samesite="lax",
        store="sessions",
        exclude=["^/static/", "^/healthz$", "^/readyz$"],
    )


def outermost(*middleware: Any) -> Any:
    """An ``on_app_init`` hook putting ``middleware`` before all other middleware."""

    def insert(app_config: AppConfig) -> AppConfig:
        app_config.middleware[0:0] = middleware
        return app_config

    return insert


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    return ThrottlePolicy.from_settings(settings)


async def run_maintenance(settings: Settings, stores: StoreRegistry) -> None:
    """Drop what has expired; each chore on its own, so that one failing skips none of the others."""
    sessions = stores.get("sessions")
    counters = stores.get(nominate.RATE_LIMIT_STORE)
    chores: list[tuple[str, Callable[[], Awaitable[object]]]] = []
    if isinstance(sessions, DatabaseStore):
        chores.append(("sessions", sessions.delete_expired))
    if isinstance(counters, FileStore):
        chores.append(("rate-limit counters", counters.delete_expired))
    chores.append(("throttle counters", lambda: login_limits.prune_throttles(throttle_policy(settings))))
    chores.append(("unconfirmed nominations", nominations.erase_expired_unconfirmed))
    chores.append(("audit anchor", audit_anchors.anchor_now))  # when the head moved (docs/audit.md)
    chores.append(("session registry", lambda: session_registry.prune(session_policy(settings), db.utcnow())))
    for name, chore in chores:
        try:
            await chore()
        except Exception:
            log.exception("maintenance of %s failed; the next run retries", name)


async def _background(settings: Settings, stores: StoreRegistry) -> None:
    """Deliver the outbox (unless ``mail_in_web`` is off) and drop expired rows.

    Errors are logged and the loop goes on. When cancelled, the sender finishes the mails
    it is delivering (at most ``SENDER_STOP_SECONDS``) and gives back the rest.
    """
    stop = asyncio.Event()
    sender = asyncio.create_task(outbox.sender_for(settings).run(stop)) if settings.mail_in_web else None
    last_maintenance = 0.0
    try:
        while True:
            if time.monotonic() - last_maintenance > MAINTENANCE_EVERY_SECONDS:
                last_maintenance = time.monotonic()
                await run_maintenance(settings, stores)  # logs and survives each chore's failure
            if sender is not None and sender.done():
                with contextlib.suppress(asyncio.CancelledError):
                    if error := sender.exception():
                        log.error("the mail sender stopped: %r; starting it again", error)
                sender = asyncio.create_task(outbox.sender_for(settings).run(stop))
            await asyncio.sleep(MAINTENANCE_TICK_SECONDS)
    finally:
        stop.set()
        if sender is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(sender, SENDER_STOP_SECONDS)


def outer_handler(app: Litestar, settings: Settings, session_cookie: str) -> Any:
    """Litestar's router with what comes before its routing.

    Around the router rather than per route, so that requests to unknown addresses are logged
    too: the client's address is settled first (ambassador.web.client), then every request gets
    its id and its log line (ambassador.web.middleware); then the front door
    (ambassador.web.front) decides in one pass what the path asks: the public pages' addresses
    per language (ambassador.web.addresses; an old address's HEAD is redirected as its GET is),
    a HEAD served as a GET without its body (ambassador.web.head), static files answered from
    memory (ambassador.web.static), and compression (ambassador.web.compression) for the
    answers that may be compressed, inside the HEAD handling, so a HEAD has the GET's headers,
    and outside the archive cache, which keeps the pages as rendered.
    """
    security_headers = make_security_headers_hook(settings.production, hsts_preload=settings.hsts_preload)
    routed = front_door(
        app.asgi_handler,
        static_routes=static_routes(settings),
        session_cookie=session_cookie,
        before_send=security_headers,
    )
    return ForwardedMiddleware(request_log(routed), trusted_proxies=settings.trusted_proxies)


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; tests pass their own settings, servers read the environment."""
    settings = settings or load_settings()
    settings.check()
    # Checked just above: the file loads. Every page, mail and feed of this process names it.
    honour.activate(honour.load(settings.honour_file))
    configure_logging(security_log=settings.security_log, facility=settings.security_log_facility)
    if settings.audit_key:  # settings built by hand in development may leave the environment's
        audit.configure(audit.AuditConfig.from_settings(settings))
    passwords = Passwords(settings.argon2)
    root_store = _root_store(settings)
    stores = StoreRegistry(
        stores=_machine_stores(settings),
        default_factory=root_store.with_namespace,  # type: ignore[attr-defined]
    )
    sessions = session_config(settings)
    csrf = csrf_config(settings)
    rotation = SessionRotation(sessions, settings)
    archive_cache = ArchiveCache(settings.archive_cache_seconds)
    page_cache = PageCache(settings.edition_cache_seconds)
    # Here, not at the top: prometheus_client must be imported after ambassador.metrics's
    # multiprocess set-up (``ambassador serve`` runs it before importing this app).
    from ambassador.web.metrics import MetricsController, prometheus_config

    metrics.create_all()
    metrics_config = prometheus_config(settings.metrics_allow)

    async def retrieve_account(session: dict[str, Any], _: ASGIConnection[Any, Any, Any, Any]) -> Account | None:
        uid, born, sid = session.get("uid"), session.get("born", 0), session.get("sid")
        if not isinstance(uid, int) or not isinstance(born, int) or not isinstance(sid, str):
            return None
        if rotation.clock() - born > settings.session_absolute_seconds:
            return None
        found = await accounts.get_account(uid)
        if found is None or not found.is_active or found.session_epoch != session.get("epoch"):
            return None
        # The registered session must be live too: ended by its owner, an admin or the limit, it
        # is refused here, whichever store holds it (ASVS 7.4.5, 7.5.2).
        live = await session_registry.touch(
            public_id=sid, user_id=uid, epoch=found.session_epoch, policy=rotation.policy, now=rotation.now()
        )
        if not live:
            return None
        requestcontext.set_user(found.id)
        return found

    session_auth = SessionAuth[Account, ServerSideSessionBackend](
        retrieve_user_handler=retrieve_account,
        session_backend_config=sessions,
        exclude=["^/static/"],
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await db.prepare()
        if settings.db_pool:
            await db.start_pool()
        task = asyncio.create_task(_background(settings, stores)) if settings.background_tasks else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if settings.db_pool:
                await db.close_pool()
            await db.close_connections()

    def provide(value: object) -> Provide:
        return Provide(lambda: value, use_cache=True, sync_to_thread=False)

    app = Litestar(
        route_handlers=[
            public.PublicController,
            about.AboutController,
            archive.ArchiveController,
            portraits.PortraitController,
            opendata.OpenDataController,
            auth.AuthController,
            account.AccountController,
            staff.StaffController,
            admin.AdminController,
            nominate.NominationController,
            drafts.DraftController,
            nomination_links.NominationLinkController,
            editions.EditionController,
            categories.CategoryController,
            formal_check.FormalCheckController,
            jury_admin.JuryAdminController,
            jury_conflicts.ConflictsAdminController,
            jury_invites.JuryInvitesController,
            jury.JuryController,
            results.ResultsAdminController,
            results.ResultsJuryController,
            documents.DocumentsAdminController,
            documents.DocumentsJuryController,
            deliberation.DeliberationAdminController,
            deliberation.DeliberationJuryController,
            approval.ApprovalController,
            laureates.LaureateController,
            laureates.LaureateCheckController,
            privacy.PrivacyController,
            MetricsController,
            CspReportController,
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                opt={"exclude_from_auth": True},
                cache_control=None,
                include_in_schema=False,
            ),
        ],
        dependencies={
            "settings": provide(settings),
            "passwords": provide(passwords),
            "upload_rules": provide(UploadRules.from_settings(settings)),
            "throttle": provide(throttle_policy(settings)),
            "sessions": provide(rotation),
            "csp_budget": provide(ReportBudget()),
        },
        on_app_init=[
            session_auth.on_app_init,
            # Outside the session and authentication middleware (which put themselves first):
            # the metrics first (they count what the others answer themselves, and judge who may
            # read them by the TCP peer), and a cached archive page costs no session lookup.
            # The home page and the form are kept the same way, filled in per visitor (web/page_cache.py).
            outermost(
                metrics_config.middleware,
                ArchiveCacheMiddleware(archive_cache, sessions.key),
                PageCacheMiddleware(page_cache, sessions.key, csrf),
            ),
        ],
        csrf_config=csrf,
        stores=stores,
        template_config=template_config(),
        before_request=set_language,
        before_send=[make_security_headers_hook(settings.production, hsts_preload=settings.hsts_preload)],
        # After the session middleware (session_auth puts it first), before Litestar's CSRF check.
        middleware=[CsrfMiddleware(settings, csrf), nominate.rate_limit(settings).middleware],
        exception_handlers={
            StepUpRequired: step_up_redirect,
            NotFound: not_found_handler,
            HTTPException: http_exception_handler,
            Exception: internal_error_handler,
        },
        lifespan=[lifespan],
        openapi_config=opendata.openapi_config(),
        logging_config=None,  # ambassador.logs configures logging; Litestar's would log to root
        request_max_body_size=settings.request_max_body_size,
        debug=False,
    )
    app.asgi_handler = outer_handler(app, settings, sessions.key)
    app.state.update(
        settings=settings,
        archive_cache=archive_cache,
        page_cache=page_cache,
        sessions=rotation,
        metrics_config=metrics_config,
    )
    return app
