"""The composition root: builds the table, mailer, clock and ids once per Lambda container."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib import telemetry, templating
from chalicelib.config.settings import LINK_KEY, LINK_KEY_SECRET, Settings, SettingsError, require_public_base_url
from chalicelib.domain.clock import Clock, SystemClock
from chalicelib.domain.ids import IdGenerator, new_id
from chalicelib.domain.links import LinkSigner
from chalicelib.domain.site import SiteIdentity
from chalicelib.store.dynamo import Table
from chalicelib.usecases.catalog import EventDetails
from chalicelib.usecases.outbox import FAN_OUT_WRITERS

if TYPE_CHECKING:
    from chalicelib.mail.postman import Postman
    from chalicelib.mail.ses import Mailer
    from chalicelib.usecases.readings import Analyzer


@dataclass
class Services:
    """Collaborators every handler needs; tests build their own."""

    settings: Settings
    table: Table
    # Made when the postman is first needed: the site's function never sends mail, so it never loads
    # the postman (nor mail rendering, QR codes and the rest) on its cold start.
    mailer_factory: Callable[[], Mailer]
    clock: Clock
    ids: IdGenerator
    events: EventDetails
    link_key: Callable[[], bytes]
    # Whether SES has verified an identity for sending (asked only when an event is saved).
    sender_verified: Callable[[str], bool] = lambda identity: True
    # Where an event's ふりがな come from when it is saved: SudachiPy in this process, or (deployed) the
    # stage's readings function. Made on first use: no page loads it.
    analyzer: Callable[[], Analyzer | None] = lambda: _in_process_analyzer()
    # True once the process is stopping (make run's Ctrl-C); Lambda never stops a batch half-way.
    stopping: Callable[[], bool] = lambda: False
    _postman: Postman | None = None
    _signer: LinkSigner | None = None
    _logo: tuple[datetime, str] | None = None  # when it was read, and the logo's data: URI ('' for none)

    @property
    def signer(self) -> LinkSigner:
        """Signs and checks personal links; the key is fetched once per container, on first use."""
        if self._signer is None:
            self._signer = LinkSigner(self.link_key())
        return self._signer

    def site_identity(self) -> SiteIdentity:
        """The deployment's identity with its logo, read at most once per LOGO_TTL per container."""
        if not self.settings.site.has_logo:
            return self.settings.site  # no logo: no read on any page
        now = self.clock.now()
        if self._logo is None or now - self._logo[0] >= LOGO_TTL:
            from chalicelib.usecases.branding import logo_uri

            self._logo = (now, logo_uri(self.table))
        logo = self._logo[1]
        return dataclasses.replace(self.settings.site, logo=logo) if logo else self.settings.site

    @property
    def postman(self) -> Postman:
        """The mail deliverer, built on first use: only functions that send mail need the public URL."""
        if self._postman is None:
            from chalicelib.mail.compose import Composer
            from chalicelib.mail.pacing import SharedPace
            from chalicelib.mail.postman import Postman
            from chalicelib.mail.ses import SesContract
            from chalicelib.usecases.outbox import DynamoOutbox

            composer = Composer(
                table=self.table,
                events=self.events,
                signer=self.signer,
                clock=self.clock,
                base_url=require_public_base_url(self.settings),
                default_sender=self.settings.default_sender,
            )
            self._postman = Postman(
                outbox=DynamoOutbox(self.table),
                compose=composer,
                mailer=SesContract(self.mailer_factory()),  # tests and make run meet SES's rules too
                clock=self.clock,
                limiter=SharedPace(self.table, self.settings.ses_max_send_rate),
                stopping=lambda: self.stopping(),  # read at each mail: make run sets it after building
            )
        return self._postman


def build_services(
    settings: Settings | None = None,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    mailer: Mailer | None = None,
    session: Any = None,
) -> Services:
    """Create real AWS clients for whatever is not given (endpoints follow AWS_ENDPOINT_URL_*)."""
    import boto3  # imported here so that `import app` stays cheap on a cold start
    from botocore.config import Config

    settings = settings or Settings.from_env()
    telemetry.set_stage(settings.stage)
    clock = clock or SystemClock()
    session = session or boto3.session.Session()
    # Enough pooled connections for the reminder fan-out's parallel writers (botocore's default is 10).
    table = Table(
        session.client("dynamodb", config=Config(max_pool_connections=FAN_OUT_WRITERS * 2)), settings.table_name
    )

    sesv2 = functools.cache(lambda: session.client("sesv2"))  # made on first use, once per container
    analyzer = (
        functools.cache(lambda: _remote_analyzer(session, settings.readings_function or ""))
        if settings.readings_function
        else _in_process_analyzer
    )

    def ses_mailer() -> Mailer:
        from chalicelib.mail.ses import SesMailer

        return SesMailer(sesv2(), settings.ses_configuration_set)

    return Services(
        settings=settings,
        table=table,
        mailer_factory=(lambda: mailer) if mailer is not None else ses_mailer,
        clock=clock,
        ids=ids or new_id,
        events=EventDetails(table, clock),
        link_key=lambda: read_link_key(settings, session),
        sender_verified=lambda identity: _ses_verified(sesv2(), identity),
        analyzer=analyzer,
    )


# The readings function analyses in well under a second once warm (about 0.4 s from a cold start here);
# the site must have its answer, or give up, well inside API Gateway's 29 s.
READINGS_TIMEOUT_SECONDS = 10


def _in_process_analyzer() -> Analyzer | None:
    from chalicelib.usecases.readings import sudachi

    return sudachi()


def _remote_analyzer(session: Any, function: str) -> Analyzer:
    from botocore.config import Config

    from chalicelib.usecases.readings import remote

    config = Config(connect_timeout=2, read_timeout=READINGS_TIMEOUT_SECONDS, retries={"total_max_attempts": 2})
    return remote(session.client("lambda", config=config), function)


def _ses_verified(client: Any, identity: str) -> bool:
    from chalicelib.usecases.senders import ses_verified

    return ses_verified(client)(identity)


def read_link_key(settings: Settings, session: Any) -> bytes:
    """The personal links' key: from Secrets Manager when deployed, from the environment locally."""
    if settings.link_key_secret:
        secret = session.client("secretsmanager").get_secret_value(SecretId=settings.link_key_secret)
        return str(secret["SecretString"]).encode("utf-8")
    if settings.link_key:
        return settings.link_key.encode("utf-8")
    raise SettingsError(f"neither {LINK_KEY_SECRET} nor {LINK_KEY} is set: personal links cannot be signed")


# A new logo shows on pages within this long (each container reads it once per period).
LOGO_TTL = timedelta(minutes=5)
_current: Services | None = None
# Every page shows the deployment's identity (domain/site.py), read from the services in use.
templating.identify_site_with(lambda: current().site_identity())


def current() -> Services:
    """The container's services, built on first use and kept for its life: nothing AWS happens at import."""
    global _current
    if _current is None:
        _current = build_services()
    return _current


def use(replacement: Services | None) -> None:
    """Swap the collaborators (tests and the local runner)."""
    global _current
    _current = replacement
