"""The composition root: builds the table, mailer, clock and ids once per Lambda container."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from chalicelib.catalog import EventDetails
from chalicelib.clock import Clock, IdGenerator, SystemClock, new_id
from chalicelib.delivery import Mailer, Postman, RateLimiter, SesMailer
from chalicelib.dynamo import Table
from chalicelib.reminders import FAN_OUT_WRITERS
from chalicelib.settings import Settings


@dataclass
class Services:
    """Collaborators every handler needs; tests build their own."""

    settings: Settings
    table: Table
    postman: Postman
    clock: Clock
    ids: IdGenerator
    events: EventDetails

    @property
    def base_path(self) -> str:
        """Path prefix of every link ("/api" behind API Gateway's stage, "" locally)."""
        return urlsplit(self.settings.public_base_url).path.rstrip("/")


def build_services(
    settings: Settings | None = None,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    mailer: Mailer | None = None,
) -> Services:
    """Create real AWS clients for whatever is not given (endpoints follow AWS_ENDPOINT_URL_*)."""
    import boto3  # imported here so that `import app` stays cheap on a cold start
    from botocore.config import Config

    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    session = boto3.session.Session()
    # Enough pooled connections for the reminder fan-out's parallel writers (botocore's default is 10).
    table = Table(
        session.client("dynamodb", config=Config(max_pool_connections=FAN_OUT_WRITERS * 2)), settings.table_name
    )
    if mailer is None:
        mailer = SesMailer(session.client("sesv2"), settings.ses_configuration_set)
    events = EventDetails(table, clock)
    postman = Postman(
        table=table,
        events=events,
        mailer=mailer,
        clock=clock,
        limiter=RateLimiter(settings.ses_max_send_rate),
        base_url=settings.public_base_url,
        default_sender=settings.default_sender,
    )
    return Services(
        settings=settings,
        table=table,
        postman=postman,
        clock=clock,
        ids=ids or new_id,
        events=events,
    )
