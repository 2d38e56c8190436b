"""`python -m deploy {check,package,deploy,destroy,replay-mail,replay-jobs} --stage NAME`: what the make targets run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.clock import SystemClock
from chalicelib.store.dynamo import Table
from chalicelib.usecases.publishing import load_event_files
from deploy.cloudformation import Deployer, DeployError
from deploy.package import PackageError, build, event_files, senders
from deploy.preflight import Level, check_resource_types, check_runtime, run_checks
from deploy.replay import replay_jobs, replay_mail
from deploy.sam import resource_types
from deploy.stage import Stage, StageError, read_stage


class Stop(Exception):
    """The command cannot go on; the message says why and what to do."""


def check(stage: Stage, session: Any) -> str:
    """Run the pre-flight checks, print every finding, stop on errors; returns the account id."""
    findings, account = run_checks(session, stage, senders(stage))
    for finding in findings:
        print(f"{finding.level.value}: {finding.message}", file=sys.stderr)
    errors = sum(f.level is Level.ERROR for f in findings)
    if errors or account is None:
        raise Stop(f"{errors} problem(s) to fix before deploying; nothing was changed")
    print(f"checks passed for account {account}, region {stage.region}")
    return account


def deploy(stage: Stage, session: Any) -> str:
    """Check, build, upload, create or update the stack, load the events; returns the public URL."""

    account = check(stage, session)
    artifact = build(stage)
    print(f"built {artifact.zip_path} ({artifact.zip_path.stat().st_size:,} bytes)")
    cloudformation = session.client("cloudformation")
    types = resource_types(artifact.template(), stage.region)
    problems = check_runtime(artifact.template()) + check_resource_types(cloudformation, types, stage.region)
    for problem in problems:
        print(f"{problem.level.value}: {problem.message}", file=sys.stderr)
    if any(problem.level is Level.ERROR for problem in problems):
        raise Stop("the stack cannot be created as built; nothing was changed")
    deployer = Deployer(cloudformation, session.client("s3"), stage.region)
    bucket = deployer.ensure_bucket(account)
    template_url = deployer.upload(artifact, bucket, stage.name)
    outputs = deployer.deploy(
        stage.stack_name, template_url, {"uketsuke:stage": stage.name}, session.client("dynamodb")
    )
    paths = [str(path) for path in event_files(stage)]
    if not paths:
        what = f"no file matches events = {stage.events!r}" if stage.events else "the stage names no event files"
        print(f"{what}: the site is up with no events; set events in deploy/stages/{stage.name}.toml and deploy again")
    else:
        print(f"loading {len(paths)} event file(s) into {outputs['TableName']}")
        loaded = load_event_files(Table(session.client("dynamodb"), outputs["TableName"]), paths, SystemClock().now())
        for text in loaded.problems:
            print(text, file=sys.stderr)
        for publication in loaded.publications:
            print(publication.describe())
        if loaded.problems:
            raise Stop("the stack is up, but an event file has problems (above); fix it and deploy again")
    return outputs["PublicUrl"]


def destroy(stage: Stage, session: Any, delete_data: bool, confirm: Callable[[str], str] | None) -> None:
    """Delete the stage's stack after the organizer confirms; the table stays unless delete_data."""
    if confirm is not None:
        what = "the stack AND ITS TABLE OF REGISTRATIONS" if delete_data else "the stack (the table is kept)"
        answer = confirm(f"This deletes {what} {stage.stack_name} in {stage.region}. Type the stage name to go on: ")
        if answer.strip() != stage.name:
            raise Stop("not confirmed; nothing was deleted")
    deployer = Deployer(session.client("cloudformation"), session.client("s3"), stage.region)
    deployer.destroy(stage.stack_name, delete_data, session.client("dynamodb"))


def _outputs(stage: Stage, session: Any) -> dict[str, str]:
    return Deployer(session.client("cloudformation"), session.client("s3"), stage.region).outputs(stage.stack_name)


def main(argv: list[str] | None = None, session_factory: Callable[..., Any] = boto3.session.Session) -> int:
    """Entry point; tests pass a session that talks to local engines."""
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    parser.add_argument("command", choices=["check", "package", "deploy", "destroy", "replay-mail", "replay-jobs"])
    parser.add_argument("--stage", required=True, help="the name of a file in deploy/stages/, without .toml")
    parser.add_argument("--delete-data", action="store_true", help="destroy: delete the table of registrations too")
    parser.add_argument("--yes", action="store_true", help="destroy: do not ask for confirmation")
    args = parser.parse_args(argv)
    try:
        stage = read_stage(args.stage)
        if args.command == "package":
            artifact = build(stage)
            print(f"{artifact.template_path}\n{artifact.zip_path}")
            return 0
        session = session_factory(region_name=stage.region)
        if args.command == "check":
            check(stage, session)
        elif args.command == "deploy":
            url = deploy(stage, session)
            print(f"uketsuke {stage.name} is live at:\n{url}")
        elif args.command == "replay-jobs":
            replayed = replay_jobs(stage, session, _outputs(stage, session))
            ran = ", ".join(f"{name} {report}" for name, report in replayed.ran.items())
            print(f"{replayed.dead_letters} dead letter(s); ran {ran or 'nothing'}; {replayed.feedback} SES notice(s)")
            if replayed.still_failing:
                raise Stop(f"a job still fails ({replayed.still_failing}); the dead letters are kept")
        elif args.command == "replay-mail":
            done = replay_mail(stage, session, _outputs(stage, session))
            print(
                f"{done.dead_letters} dead letter(s); {done.released} held mail(s) released;"
                f" {done.sent} mail(s) sent now"
            )
            if done.still_failing:
                raise Stop("some mail still fails: its outbox item's last_error says why; the dead letters are kept")
        else:
            if not args.yes and not sys.stdin.isatty():
                raise Stop("destroy asks for confirmation; run it in a terminal, or add --yes")
            destroy(stage, session, args.delete_data, None if args.yes else input)
    except (StageError, PackageError, Stop, DeployError, ClientError, BotoCoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
