"""Checks before a deploy touches anything: credentials, region, SES identities and sandbox, Python version.

Each problem says what to do. Errors stop the deploy; warnings are printed and it goes on.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deploy import readings
from deploy.stage import Stage, stage_path

# Pythons the deploy supports: the code needs 3.11 (tomllib); Lambda offers python3.11 to python3.14 for
# new functions ("Lambda runtimes" in the Lambda Developer Guide), and Chalice 1.34 packages for the
# Python that runs it, mapping each of 3.10 to 3.14 to the same Lambda runtime (chalice/config.py).
LAMBDA_PYTHONS = ("3.11", "3.12", "3.13", "3.14")


@dataclass(frozen=True)
class RuntimeDates:
    """A runtime's end of support on Lambda ("Lambda runtimes", its table of supported runtimes)."""

    deprecated: date  # no more security patches, no technical support
    create_blocked: date | None = None  # a new stage can no longer create its functions on it
    update_blocked: date | None = None  # a deploy can no longer update them either
    os_ended: date | None = None  # its operating system's end of life, before the runtime's own


LAMBDA_DATES = {
    # On Amazon Linux 2, whose end of life (2026-06-30) leaves it only critical security patches until then.
    "3.11": RuntimeDates(date(2027, 6, 30), date(2027, 7, 31), date(2027, 8, 31), os_ended=date(2026, 6, 30)),
    "3.12": RuntimeDates(date(2028, 10, 31)),
    "3.13": RuntimeDates(date(2029, 6, 30), date(2029, 7, 31), date(2029, 8, 31)),
    "3.14": RuntimeDates(date(2029, 6, 30), date(2029, 7, 31), date(2029, 8, 31)),
}


class Level(Enum):
    """How much a finding matters."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One thing the organizer has to know before (or instead of) deploying."""

    level: Level
    message: str


def check_python(version: tuple[int, int] | None = None, today: date | None = None) -> list[Finding]:
    """The Python running the deploy is one Lambda runs, since Chalice packages for that version."""
    major, minor = version or sys.version_info[:2]
    found = f"{major}.{minor}"
    rebuild = "make clean && make deploy PYTHON=python3.13 STAGE=..."
    if found not in LAMBDA_PYTHONS:
        return [
            Finding(
                Level.ERROR,
                f"this deploy runs on Python {found}, but it supports Python {', '.join(LAMBDA_PYTHONS)} (what both "
                "Lambda and uketsuke run), and Chalice packages for the Python that runs it. Install one of those "
                f"and rebuild the environment: {rebuild}",
            )
        ]
    dates, day = LAMBDA_DATES[found], today or date.today()
    runtime = f"python{found}"
    if dates.update_blocked and day >= dates.update_blocked:
        return [
            Finding(
                Level.ERROR,
                f"Lambda no longer updates functions on {runtime} (since "
                f"{dates.update_blocked:%Y-%m-%d}): deploy from a newer Python: {rebuild}",
            )
        ]
    if day >= dates.deprecated:
        blocked = (
            f"; a new stage cannot be created on it from {dates.create_blocked:%Y-%m-%d}, nor updated from"
            f" {dates.update_blocked:%Y-%m-%d}"
            if dates.create_blocked and dates.update_blocked
            else ""
        )
        return [
            Finding(
                Level.WARNING,
                f"Lambda deprecated its {runtime} runtime on {dates.deprecated:%Y-%m-%d}: the "
                f"functions get no more security patches{blocked}. Deploy from a newer Python: {rebuild}",
            )
        ]
    if dates.os_ended and day >= dates.os_ended:
        return [
            Finding(
                Level.WARNING,
                f"{runtime} runs on Amazon Linux 2, which reached its end of life on "
                f"{dates.os_ended:%Y-%m-%d} (only critical security patches now); Lambda deprecates {runtime} on "
                f"{dates.deprecated:%Y-%m-%d}. Deploy from Python 3.13 or 3.14 when you can: {rebuild}",
            )
        ]
    return []


def check_runtime(template: dict[str, Any], version: tuple[int, int] | None = None) -> list[Finding]:
    """Every function in the built template runs on the Python the package was built with."""
    major, minor = version or sys.version_info[:2]
    expected = f"python{major}.{minor}"
    runtimes = {
        str(resource["Properties"].get("Runtime"))
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    if runtimes == {expected}:
        return []
    return [
        Finding(
            Level.ERROR,
            f"the package was built for {', '.join(sorted(runtimes))} but this Python is {major}.{minor}: "
            "rebuild it with `make package STAGE=...` from the same environment",
        )
    ]


def check_resource_types(cloudformation: Any, types: Iterable[str], region: str) -> list[Finding]:
    """CloudFormation offers every resource type the stack needs in the region (it asks; no list is kept here)."""
    missing: list[str] = []
    for kind in types:
        try:
            cloudformation.describe_type(Type="RESOURCE", TypeName=kind)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("TypeNotFoundException", "TypeNotFound"):
                return [
                    Finding(Level.WARNING, f"could not ask CloudFormation which resource types {region} has: {exc}")
                ]
            missing.append(kind)
    if not missing:
        return []
    return [
        Finding(
            Level.ERROR,
            f"CloudFormation in {region} does not offer {', '.join(missing)}, which the stack needs: "
            "choose a region that has them (ap-northeast-1 does) and set region in the stage file",
        )
    ]


def check_credentials(session: Any) -> tuple[list[Finding], str | None]:
    """Credentials exist and AWS accepts them; returns the account id when it does."""
    if session.get_credentials() is None:
        return [
            Finding(
                Level.ERROR,
                "no AWS credentials were found: run `aws configure` (or `aws sso login`), "
                "or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            )
        ], None
    try:
        identity = session.client("sts").get_caller_identity()
    except ClientError as exc:
        return [Finding(Level.ERROR, f"AWS did not accept the credentials ({exc}): refresh or replace them")], None
    except BotoCoreError as exc:
        return [Finding(Level.ERROR, f"could not reach AWS to check the credentials ({exc}): check the network")], None
    return [], str(identity["Account"])


def check_region(session: Any, stage: Stage) -> list[Finding]:
    """The stage's region exists and offers every service the stack uses."""
    for service in ("lambda", "dynamodb", "sesv2", "apigateway"):
        if stage.region not in session.get_available_regions(service):
            return [
                Finding(
                    Level.ERROR,
                    f"region {stage.region!r} (from {stage_path(stage.name)}) does not offer {service}: "
                    "choose another region, such as ap-northeast-1",
                )
            ]
    return []


def check_senders(sesv2: Any, stage: Stage, senders: Iterable[str]) -> list[Finding]:
    """Every From address is verified, itself or through its domain; a domain without DKIM is a warning."""
    findings: list[Finding] = []
    for sender in sorted(set(senders)):
        domain = sender.rsplit("@", 1)[1]
        verified_domain = _identity(sesv2, domain)
        if verified_domain is not None and verified_domain.get("VerifiedForSendingStatus"):
            if verified_domain.get("DkimAttributes", {}).get("Status") != "SUCCESS":
                findings.append(
                    Finding(
                        Level.WARNING,
                        f"{domain} is verified in SES but DKIM is not working: add the CNAME records the SES "
                        "console shows for it, or mail may be marked as spam",
                    )
                )
            continue
        verified_address = _identity(sesv2, sender)
        if verified_address is not None and verified_address.get("VerifiedForSendingStatus"):
            findings.append(
                Finding(
                    Level.WARNING,
                    f"only the address {sender} is verified, not its domain {domain}: verify the domain with DKIM "
                    "so that mail is signed and trusted",
                )
            )
            continue
        findings.append(
            Finding(
                Level.ERROR,
                f"{sender} cannot send through SES in {stage.region}: verify the domain {domain} (with DKIM) or the "
                f"address itself in the SES console of {stage.region}, then deploy again",
            )
        )
    return findings


def check_account(sesv2: Any, stage: Stage) -> list[Finding]:
    """SES may send at all, outside the sandbox (unless the stage allows it) and at the stage's rate."""
    try:
        account = sesv2.get_account()
    except (ClientError, BotoCoreError) as exc:
        return [Finding(Level.ERROR, f"could not read the SES account of {stage.region} ({exc})")]
    findings: list[Finding] = []
    if not account.get("SendingEnabled", True):
        findings.append(
            Finding(Level.ERROR, f"SES sending is paused for this account in {stage.region}: see the SES console")
        )
    if not account.get("ProductionAccessEnabled", False):
        sandbox = (
            f"the account is in the SES sandbox in {stage.region}: it can only send to addresses verified in SES. "
            "Request production access (SES console → Account dashboard → Request production access)"
        )
        if stage.allow_ses_sandbox:
            findings.append(Finding(Level.WARNING, sandbox + "; going on because the stage allows the sandbox"))
            findings += check_sandbox_recipients(sesv2, stage)
        else:
            findings.append(
                Finding(
                    Level.ERROR,
                    sandbox + f", or set allow_ses_sandbox = true in {stage_path(stage.name)} for a trial stage",
                )
            )
    max_rate = float(account.get("SendQuota", {}).get("MaxSendRate", 0) or 0)
    if max_rate and stage.ses_max_send_rate > max_rate:
        findings.append(
            Finding(
                Level.ERROR,
                f"ses_max_send_rate is {stage.ses_max_send_rate:g}/s but this account may send {max_rate:g}/s: "
                f"set ses_max_send_rate = {max_rate:g} in {stage_path(stage.name)}",
            )
        )
    return findings


def check_sandbox_recipients(sesv2: Any, stage: Stage) -> list[Finding]:
    """In the sandbox SES sends only to verified identities: every address the trial stage mails must be one."""
    unverified = [address for address in stage.sandbox_mailed if not _verified(sesv2, address)]
    if not unverified:
        return []
    return [
        Finding(
            Level.ERROR,
            f"in the SES sandbox, mail reaches only verified addresses, and {', '.join(unverified)} "
            f"{'is' if len(unverified) == 1 else 'are'} not verified in {stage.region}: verify each in the SES "
            "console (it gets a confirmation link), or remove it from organizers/sandbox_recipients in "
            f"{stage_path(stage.name)}; attendees of a trial stage must be listed in sandbox_recipients and verified",
        )
    ]


def _verified(sesv2: Any, address: str) -> bool:
    """The address may receive in the sandbox: it, or its whole domain, is a verified identity."""
    for name in (address, address.rsplit("@", 1)[1]):
        identity = _identity(sesv2, name)
        if identity is not None and identity.get("VerifiedForSendingStatus"):
            return True
    return False


# New accounts start with a Lambda concurrency quota far below the usual 1,000 ("Lambda quotas"): a flash
# crowd at an announcement would be throttled at a few requests at once.
MIN_CONCURRENCY = 100
CONCURRENCY_QUOTA_CODE = "L-B99A9384"  # Service Quotas: AWS Lambda, "Concurrent executions"


def check_certificate(acm: Any, stage: Stage) -> list[Finding]:
    """The custom domain's certificate is issued and names the domain (ACM in us-east-1, for the edge)."""
    domain = stage.custom_domain
    if domain is None:
        return []
    try:
        certificate = acm.describe_certificate(CertificateArn=domain.certificate_arn)["Certificate"]
    except ClientError as exc:
        return [
            Finding(
                Level.ERROR,
                f"the certificate {domain.certificate_arn} could not be read in us-east-1 ({exc}):"
                " check custom_domain.certificate_arn (it must be in us-east-1)",
            )
        ]
    status = certificate.get("Status", "")
    if status != "ISSUED":
        return [
            Finding(
                Level.ERROR,
                f"the certificate for {domain.name} is {status}, not ISSUED: finish its validation"
                " in ACM (us-east-1), usually by adding the DNS record it shows, then deploy again",
            )
        ]
    names = {certificate.get("DomainName", ""), *certificate.get("SubjectAlternativeNames", [])}
    wildcard = "*." + domain.name.split(".", 1)[1]
    if domain.name not in names and wildcard not in names:
        return [
            Finding(Level.ERROR, f"the certificate does not cover {domain.name} (it names {', '.join(sorted(names))})")
        ]
    return []


def check_concurrency(lambda_client: Any) -> list[Finding]:
    """The account's Lambda concurrency quota is not the reduced one of a new account."""
    try:
        limit = lambda_client.get_account_settings()["AccountLimit"]["ConcurrentExecutions"]
    except (ClientError, BotoCoreError) as exc:
        return [Finding(Level.WARNING, f"could not ask Lambda for this account's concurrency quota ({exc})")]
    if limit >= MIN_CONCURRENCY:
        return []
    return [
        Finding(
            Level.WARNING,
            f"this account may run only {limit} Lambda functions at once (new accounts start"
            " low): a crowd opening the form after an announcement would get busy answers. Ask for 1000 in"
            f" Service Quotas: aws service-quotas request-service-quota-increase --service-code lambda"
            f" --quota-code {CONCURRENCY_QUOTA_CODE} --desired-value 1000",
        )
    ]


def check_readings(version: tuple[int, int] | None = None) -> list[Finding]:
    """The readings function gets its layer only from Python 3.12 on (deploy/readings.py says why)."""
    if readings.possible(version):
        return []
    found = "{}.{}".format(*(version or sys.version_info[:2]))
    return [
        Finding(
            Level.WARNING,
            f"deployed from Python {found}, the functions run on Amazon Linux 2, where SudachiPy cannot load: events "
            "saved in the browser keep the ふりがな they have but get none for new words (events loaded by make deploy "
            "or manage.py load-events get them from this machine). Deploy from Python 3.12 or later for them: "
            "make clean && make deploy PYTHON=python3.13 STAGE=...",
        )
    ]


def run_checks(session: Any, stage: Stage, senders: Iterable[str]) -> tuple[list[Finding], str | None]:
    """Every check, in the order an organizer would fix them; the account id if credentials work."""
    findings = check_python() + check_readings()
    found, account = check_credentials(session)
    findings += found
    if account is None:
        return findings, None
    findings += check_region(session, stage)
    if any(f.level is Level.ERROR for f in findings):
        return findings, account
    sesv2 = session.client("sesv2", region_name=stage.region)
    findings += check_senders(sesv2, stage, senders)
    findings += check_account(sesv2, stage)
    findings += check_concurrency(session.client("lambda", region_name=stage.region))
    if stage.custom_domain:  # its certificate is in us-east-1, where the edge endpoint needs it
        findings += check_certificate(session.client("acm", region_name="us-east-1"), stage)
    return findings, account


def _identity(sesv2: Any, name: str) -> dict[str, Any] | None:
    try:
        identity: dict[str, Any] = sesv2.get_email_identity(EmailIdentity=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NotFoundException":
            return None
        raise
    return identity
