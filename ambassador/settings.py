"""Configuration read once from environment variables, with safe defaults for development.

Every knob lives here so that the rest of the code receives explicit values and tests can
build an app with their own settings.
"""

from __future__ import annotations

import ipaddress
import math
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from ambassador import honour
from ambassador.antivirus import parse_address

Environment = Literal["development", "production"]

DEFAULT_DATABASE_URL = "sqlite:///var/ambassador.sqlite3"
MIN_SECRET_LENGTH = 32
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MAX_MAIL_RATE = 10_000
MAX_MAIL_CONCURRENCY = 64
MAX_MAIL_POLL_SECONDS = 300
DEFAULT_UPLOAD_QUOTA_BYTES = 20 * 1024**3
MAX_SESSIONS_PER_ACCOUNT = 100
MAX_STEP_UP_SECONDS = 60 * 60


class ConfigurationError(RuntimeError):
    """The settings are unsafe or invalid; the app refuses to start."""


@dataclass(frozen=True)
class Argon2Params:
    """argon2id cost; the default is the OWASP minimum (t=2, m=19 MiB, p=1)."""

    time_cost: int = 2
    memory_cost: int = 19_456
    parallelism: int = 1


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know about its environment."""

    env: Environment = "development"
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = field(default="", repr=False)
    smtp_url: str | None = field(default=None, repr=False)
    redis_url: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    var_dir: Path = Path("var")
    # Peers whose X-Forwarded-For/-Proto/-Host are believed (ambassador.web.client).
    trusted_proxies: tuple[str, ...] = ()
    # Production's HSTS header says `preload` (the preload-list submission is the operator's step).
    hsts_preload: bool = False
    # How many app instances (machines or services) share the database: `check --deploy`.
    instances: int = 1
    backup_dir: Path = Path("var/backups")
    mail_from: str = "Ambassador <no-reply@localhost>"
    argon2: Argon2Params = field(default_factory=Argon2Params)
    db_pool: bool = True
    session_idle_seconds: int = 30 * 60
    session_absolute_seconds: int = 12 * 60 * 60
    # Live sessions one account may have; a login beyond ends the least recently used one.
    max_sessions_per_account: int = 5
    # How long a password entry (login or /account/confirm) allows sensitive changes.
    step_up_seconds: int = 5 * 60
    # Login throttling (docs/authentication.md): windows of 15 minutes; attempts per
    # (account, address) pair and per address; failures per account from everywhere that slow
    # down browsers without the account's device cookie (first slot, doubling); its lifetime.
    login_window_seconds: int = 15 * 60
    login_max_failures_per_pair: int = 5
    login_max_failures_per_address: int = 30
    login_protect_account_after: int = 20
    login_slow_down_seconds: int = 30
    login_device_cookie_days: int = 180
    # "Forgot your password": requests per address, reset mails per account, in this window.
    reset_window_seconds: int = 60 * 60
    reset_max_per_address: int = 10
    reset_max_per_account: int = 3
    token_lifetime_seconds: int = 72 * 60 * 60
    mail_lease_seconds: int = 120
    mail_max_attempts: int = 8
    # How often an idle sender asks whether a mail is due (one indexed read).
    mail_poll_seconds: float = 1.0
    # False: the web workers send no mail; `ambassador mail send --loop` runs as its own service.
    mail_in_web: bool = True
    # Per sender process: mails a second at most (providers limit this), SMTP connections at once.
    mail_rate: float = 10.0
    mail_concurrency: int = 4
    # A CA bundle to verify the SMTP server's certificate with (an internal relay's CA).
    smtp_ca_file: Path | None = None
    background_tasks: bool = True
    request_max_body_size: int = 1_000_000
    # Five 10 MB attachments plus the texts: the only route that takes large bodies.
    nomination_max_body_size: int = 54 * 1024 * 1024
    nomination_posts_per_hour: int = 20
    # clamd's address (unix:/run/clamav/clamd.ctl or tcp:host:port): every upload is scanned
    # before it is stored (ambassador.antivirus); unset, nothing is scanned (development).
    clamd: str | None = None
    # All nominations' attachments together may take at most this much (ASVS 5.2.4).
    upload_quota_bytes: int = DEFAULT_UPLOAD_QUOTA_BYTES
    # How long another process's archive change may take to show here (page cache).
    archive_cache_seconds: float = 1.0
    # How long each process reuses the nomination form's edition (the save re-checks the window).
    edition_cache_seconds: float = 1.0
    # Direct (un-proxied) peers that may read /metrics: addresses or CIDRs. An entry that is
    # not an address is compared with the peer's name as the server reports it.
    metrics_allow: tuple[str, ...] = ("127.0.0.1", "::1")
    # prometheus_client's multiprocess directory (see ambassador.metrics).
    metrics_dir: Path = Path("var") / "metrics"
    # The audit log's HMAC key (never derived from secret_key, which is rotated), the keys
    # of entries made before a rotation, where signed anchors go, whether admins get them
    # by mail (ambassador.domain.audit, docs/audit.md).
    audit_key: str = field(default="", repr=False)
    audit_old_keys: tuple[str, ...] = field(default=(), repr=False)
    audit_anchor_file: Path | None = None
    audit_anchor_mail: bool = False
    # Where the security events go (ambassador.logs): stderr, syslog (/dev/log),
    # syslog://host:port (UDP) or syslog+tcp://host:port; and their syslog facility.
    security_log: str = "stderr"
    security_log_facility: str = "authpriv"
    # The honour this installation runs (ambassador.honour, docs/honour.md); None: Kraków's.
    honour_file: Path | None = None

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    @property
    def audit_anchor_path(self) -> Path:
        return self.audit_anchor_file or self.var_dir / "audit-anchors.jsonl"

    def with_changes(self, **changes: object) -> Settings:
        """A copy with some fields replaced (used by tests and the CLI)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def check(self) -> None:
        """Refuse invalid settings, and in production unsafe ones; say exactly what is wrong.

        The production rules are `ambassador check --deploy`'s errors that the settings alone
        decide (ambassador.deploycheck); the ones that need the disk or the database (backups,
        reachability) are left to the check, so that a start is not refused by a passing state.
        """
        problems: list[str] = []
        if not self.database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            problems.append("AMBASSADOR_DATABASE_URL must start with sqlite:/// or postgresql://")
        problems.extend(self._mail_problems())
        problems.extend(self._upload_problems())
        problems.extend(self._security_log_problems())
        problems.extend(self.honour_problems())
        if self.production:
            from ambassador import deploycheck

            # The address's own problem is already listed (checked in development too).
            problems.extend(f.message for f in deploycheck.startup_errors(self) if f.message not in problems)
        if problems:
            raise ConfigurationError("; ".join(problems))

    def honour_problems(self) -> list[str]:
        """What makes the honour file unusable, in one line naming the file and the key."""
        try:
            honour.load(self.honour_file)
        except honour.HonourError as exc:
            return [f"AMBASSADOR_HONOUR_FILE: {exc}"]
        return []

    def _upload_problems(self) -> list[str]:
        problems = []
        if self.clamd is not None:
            try:
                parse_address(self.clamd)
            except ValueError as exc:
                problems.append(f"AMBASSADOR_CLAMD: {exc}")
        if self.upload_quota_bytes < 1:
            problems.append("AMBASSADOR_UPLOAD_QUOTA_BYTES must be a positive number of bytes")
        return problems

    def _security_log_problems(self) -> list[str]:
        from ambassador import logs

        problems = []
        try:
            logs.syslog_target(self.security_log)
        except ValueError as exc:
            problems.append(str(exc))
        try:
            logs.syslog_facility(self.security_log_facility)
        except ValueError as exc:
            problems.append(str(exc))
        return problems

    def _mail_problems(self) -> list[str]:
        problems = []
        if self.smtp_url and not self.smtp_url.startswith(("smtp://", "smtps://")):
            problems.append("AMBASSADOR_SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (TLS)")
        if not 0 < self.mail_rate <= MAX_MAIL_RATE:
            problems.append(f"AMBASSADOR_MAIL_RATE must be above 0 and at most {MAX_MAIL_RATE} mails a second")
        if not 1 <= self.mail_concurrency <= MAX_MAIL_CONCURRENCY:
            problems.append(f"AMBASSADOR_MAIL_CONCURRENCY must be between 1 and {MAX_MAIL_CONCURRENCY}")
        if not 0 < self.mail_poll_seconds <= MAX_MAIL_POLL_SECONDS:
            problems.append(f"AMBASSADOR_MAIL_POLL_SECONDS must be above 0 and at most {MAX_MAIL_POLL_SECONDS}")
        if self.smtp_ca_file is not None and not self.smtp_ca_file.is_file():
            problems.append(f"AMBASSADOR_SMTP_CA_FILE names no readable file: {self.smtp_ca_file}")
        return problems


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from exc


def _networks(env: dict[str, str], name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Comma-separated addresses or CIDR networks, each checked and written canonically."""
    raw = env.get(name)
    if raw is None:
        return default
    found: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            network = ipaddress.ip_network(item, strict=True)
        except ValueError as exc:
            raise ConfigurationError(
                f"{name}: {item!r} is not an IP address or a network in CIDR form "
                "(for example 127.0.0.1, ::1 or 10.0.0.0/8; host bits of a network must be zero)"
            ) from exc
        found.append(str(network.network_address) if network.num_addresses == 1 else str(network))
    return tuple(found)


def listen_address(env: dict[str, str]) -> tuple[str, int]:
    """Where ``ambassador serve`` listens by default: AMBASSADOR_HOST, then PORT or AMBASSADOR_PORT."""
    host = env.get("AMBASSADOR_HOST") or DEFAULT_HOST
    raw = env.get("PORT") or env.get("AMBASSADOR_PORT") or ""
    name = "PORT" if env.get("PORT") else "AMBASSADOR_PORT"
    port = _int({name: raw}, name, DEFAULT_PORT)
    if not 0 < port < 65536:
        raise ConfigurationError(f"{name} must be a port number (1 to 65535), got {raw!r}")
    return host, port


def development_base_url(env: dict[str, str]) -> str:
    """The address this development server answers on (what ``ambassador serve`` listens on).

    A wildcard listening address (0.0.0.0, ::) becomes 127.0.0.1: links work on this machine.
    """
    host, port = listen_address(env)
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 (a comparison: wildcards are not linked to)
        host = DEFAULT_HOST
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def honour_file(env: dict[str, str]) -> Path | None:
    """AMBASSADOR_HONOUR_FILE: the honour this installation runs; None, the shipped Kraków honour."""
    chosen = env.get("AMBASSADOR_HONOUR_FILE")
    return Path(chosen) if chosen else None


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from exc
    if not math.isfinite(value):
        raise ConfigurationError(f"{name} must be a finite number, got {raw!r}")
    return value


def _dev_secret(var_dir: Path, name: str = "secret_key") -> str:
    """Generate a development secret once and keep it in var/ (never committed)."""
    path = var_dir / name
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the settings from the environment (``os.environ`` by default) and check them."""
    settings = read_settings(environ)
    settings.check()
    return settings


def read_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the settings without refusing unsafe ones (``ambassador check --deploy`` lists them).

    Values that cannot be read at all (not a number, an unknown mode) still raise.
    """
    env = dict(os.environ if environ is None else environ)
    if "AMBASSADOR_LOGIN_MAX_FAILURES_PER_ACCOUNT" in env:
        raise ConfigurationError(
            "AMBASSADOR_LOGIN_MAX_FAILURES_PER_ACCOUNT was replaced by AMBASSADOR_LOGIN_MAX_FAILURES_PER_PAIR "
            "(per account and address) and AMBASSADOR_LOGIN_PROTECT_ACCOUNT_AFTER (see docs/authentication.md)"
        )
    mode = env.get("AMBASSADOR_ENV", "development")
    if mode not in ("development", "production"):
        raise ConfigurationError("AMBASSADOR_ENV must be 'development' or 'production'")
    var_dir = Path(env.get("AMBASSADOR_VAR_DIR", "var"))
    secret = env.get("AMBASSADOR_SECRET_KEY", "")
    if not secret and mode == "development":
        secret = _dev_secret(var_dir)
    audit_key = env.get("AMBASSADOR_AUDIT_KEY", "")
    if not audit_key and mode == "development":
        audit_key = _dev_secret(var_dir, "audit_key")
    base_url = env.get("AMBASSADOR_BASE_URL", "").rstrip("/")
    if not base_url and mode == "development":
        base_url = development_base_url(env)
    settings = Settings(
        env=mode,  # type: ignore[arg-type]
        database_url=env.get("AMBASSADOR_DATABASE_URL", DEFAULT_DATABASE_URL),
        secret_key=secret,
        smtp_url=env.get("AMBASSADOR_SMTP_URL") or None,
        redis_url=env.get("AMBASSADOR_REDIS_URL") or None,
        base_url=base_url,
        var_dir=var_dir,
        trusted_proxies=_networks(env, "AMBASSADOR_TRUSTED_PROXIES"),
        hsts_preload=env.get("AMBASSADOR_HSTS_PRELOAD", "0") == "1",
        instances=_int(env, "AMBASSADOR_INSTANCES", 1),
        backup_dir=Path(env.get("AMBASSADOR_BACKUP_DIR") or var_dir / "backups"),
        mail_from=env.get("AMBASSADOR_MAIL_FROM", Settings.mail_from),
        argon2=Argon2Params(
            time_cost=_int(env, "AMBASSADOR_ARGON2_TIME_COST", Argon2Params.time_cost),
            memory_cost=_int(env, "AMBASSADOR_ARGON2_MEMORY_COST", Argon2Params.memory_cost),
            parallelism=_int(env, "AMBASSADOR_ARGON2_PARALLELISM", Argon2Params.parallelism),
        ),
        db_pool=env.get("AMBASSADOR_DB_POOL", "1") != "0",
        session_idle_seconds=_int(env, "AMBASSADOR_SESSION_IDLE_SECONDS", 30 * 60),
        session_absolute_seconds=_int(env, "AMBASSADOR_SESSION_ABSOLUTE_SECONDS", 12 * 3600),
        max_sessions_per_account=_int(env, "AMBASSADOR_MAX_SESSIONS_PER_ACCOUNT", Settings.max_sessions_per_account),
        step_up_seconds=_int(env, "AMBASSADOR_STEP_UP_SECONDS", Settings.step_up_seconds),
        login_window_seconds=_int(env, "AMBASSADOR_LOGIN_WINDOW_SECONDS", Settings.login_window_seconds),
        login_max_failures_per_pair=_int(env, "AMBASSADOR_LOGIN_MAX_FAILURES_PER_PAIR", 5),
        login_max_failures_per_address=_int(env, "AMBASSADOR_LOGIN_MAX_FAILURES_PER_ADDRESS", 30),
        login_protect_account_after=_int(env, "AMBASSADOR_LOGIN_PROTECT_ACCOUNT_AFTER", 20),
        login_slow_down_seconds=_int(env, "AMBASSADOR_LOGIN_SLOW_DOWN_SECONDS", 30),
        login_device_cookie_days=_int(env, "AMBASSADOR_LOGIN_DEVICE_COOKIE_DAYS", 180),
        reset_window_seconds=_int(env, "AMBASSADOR_RESET_WINDOW_SECONDS", 3600),
        reset_max_per_address=_int(env, "AMBASSADOR_RESET_MAX_PER_ADDRESS", 10),
        reset_max_per_account=_int(env, "AMBASSADOR_RESET_MAX_PER_ACCOUNT", 3),
        mail_lease_seconds=_int(env, "AMBASSADOR_MAIL_LEASE_SECONDS", 120),
        mail_poll_seconds=_float(env, "AMBASSADOR_MAIL_POLL_SECONDS", Settings.mail_poll_seconds),
        mail_in_web=env.get("AMBASSADOR_MAIL_IN_WEB", "1") != "0",
        mail_rate=_float(env, "AMBASSADOR_MAIL_RATE", Settings.mail_rate),
        mail_concurrency=_int(env, "AMBASSADOR_MAIL_CONCURRENCY", Settings.mail_concurrency),
        smtp_ca_file=Path(env["AMBASSADOR_SMTP_CA_FILE"]) if env.get("AMBASSADOR_SMTP_CA_FILE") else None,
        background_tasks=env.get("AMBASSADOR_BACKGROUND_TASKS", "1") != "0",
        nomination_posts_per_hour=_int(env, "AMBASSADOR_NOMINATION_POSTS_PER_HOUR", 20),
        clamd=env.get("AMBASSADOR_CLAMD") or None,
        upload_quota_bytes=_int(env, "AMBASSADOR_UPLOAD_QUOTA_BYTES", DEFAULT_UPLOAD_QUOTA_BYTES),
        archive_cache_seconds=float(_int(env, "AMBASSADOR_ARCHIVE_CACHE_SECONDS", 1)),
        edition_cache_seconds=float(_int(env, "AMBASSADOR_EDITION_CACHE_SECONDS", 1)),
        metrics_allow=_networks(env, "AMBASSADOR_METRICS_ALLOW", Settings.metrics_allow),
        metrics_dir=Path(env.get("PROMETHEUS_MULTIPROC_DIR") or var_dir / "metrics"),
        audit_key=audit_key,
        audit_old_keys=tuple(key.strip() for key in env.get("AMBASSADOR_AUDIT_OLD_KEYS", "").split(",") if key.strip()),
        audit_anchor_file=Path(anchors) if (anchors := env.get("AMBASSADOR_AUDIT_ANCHOR_FILE")) else None,
        audit_anchor_mail=env.get("AMBASSADOR_AUDIT_ANCHOR_MAIL", "0") == "1",
        security_log=env.get("AMBASSADOR_SECURITY_LOG") or Settings.security_log,
        security_log_facility=env.get("AMBASSADOR_SECURITY_LOG_FACILITY") or Settings.security_log_facility,
        honour_file=honour_file(env),
    )
    if settings.instances < 1:
        raise ConfigurationError(f"AMBASSADOR_INSTANCES must be 1 or more, got {settings.instances}")
    _check_throttles(settings)
    if not 1 <= settings.max_sessions_per_account <= MAX_SESSIONS_PER_ACCOUNT:
        raise ConfigurationError(
            f"AMBASSADOR_MAX_SESSIONS_PER_ACCOUNT must be between 1 and {MAX_SESSIONS_PER_ACCOUNT},"
            f" got {settings.max_sessions_per_account}"
        )
    if not 1 <= settings.step_up_seconds <= MAX_STEP_UP_SECONDS:
        raise ConfigurationError(
            f"AMBASSADOR_STEP_UP_SECONDS must be between 1 and {MAX_STEP_UP_SECONDS}, got {settings.step_up_seconds}"
        )
    return settings


def _check_throttles(settings: Settings) -> None:
    """Every limit and window of the login and reset throttles is a positive whole number."""
    for name in (
        "login_window_seconds",
        "login_max_failures_per_pair",
        "login_max_failures_per_address",
        "login_protect_account_after",
        "login_slow_down_seconds",
        "login_device_cookie_days",
        "reset_window_seconds",
        "reset_max_per_address",
        "reset_max_per_account",
    ):
        if getattr(settings, name) < 1:
            raise ConfigurationError(f"AMBASSADOR_{name.upper()} must be 1 or more, got {getattr(settings, name)}")
