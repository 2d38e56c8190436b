"""What the stack watches and shows: its alarms (mailed to the organizer) and its CloudWatch dashboard.

Every alarm mail says in Japanese and in English what happened and names the section of the operations
guide that says what to do (docs/operations.md, "When an alarm mails you"; a test keeps each section there).
The business counts come from the functions' own log lines (chalicelib/telemetry.py, in the Embedded
Metric Format), under the namespace `uketsuke` with the stage as their one dimension.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib import telemetry
from deploy.logical_ids import ALARM_TOPIC, JOB_DEAD_LETTERS, MAIL_DEAD_LETTERS, TABLE_NAME
from deploy.stage import Stage

ALARM_PERIOD_SECONDS = 300
# SES starts reviewing an account at a 5 % bounce rate; warn before that.
BOUNCE_RATE_ALARM = 0.04
# SES places an account under review at a complaint rate of 0.1 % (its Developer Guide, "Reputation metrics").
COMPLAINT_RATE_ALARM = 0.0008
RUNBOOK = "docs/operations.md"


@dataclass(frozen=True)
class Said:
    """What an alarm mail says: in Japanese, in English, and the runbook section (its heading's anchor)."""

    ja: str
    en: str
    section: str

    def description(self, stage: Stage) -> str:
        """The alarm's description, which the mail SNS sends carries."""
        return f"uketsuke {stage.name}: {self.ja} / {self.en} ― 対処 / What to do: {RUNBOOK}#{self.section}"


SERVER_ERRORS = Said(
    "サイトが予期しないエラー（5XX）を返しました（混雑時の「もう一度お試しください」は含みません）",
    "the site answered with unexpected server errors (not counting its own 'busy, try again' answers)",
    "the-site-answered-with-server-errors",
)
DEAD_LETTERS = {
    MAIL_DEAD_LETTERS: Said(
        "メールの送信処理が失敗し、再送を待っています",
        "sending mail failed for good and waits to be replayed",
        "mail-waits-in-its-dead-letters",
    ),
    JOB_DEAD_LETTERS: Said(
        "定期処理（リマインダー、締め切り、抽選など）が失敗し、再実行を待っています",
        "a scheduled job (reminders, closing, draws...) failed for good and waits to be replayed",
        "a-job-waits-in-its-dead-letters",
    ),
}
THROTTLED_TABLE = Said(
    "データベースが処理を制限しました", "the table throttled requests", "the-table-throttled-requests"
)
BOUNCE_RATE = Said(
    "メールの不達率が、SESの審査の目安に近づいています",
    "the account's bounce rate is close to where SES reviews it",
    "bounces-or-complaints-are-rising",
)
COMPLAINT_RATE = Said(
    "迷惑メール報告の率が、SESの審査の目安に近づいています",
    "the account's complaint rate is close to where SES reviews it",
    "bounces-or-complaints-are-rising",
)


def function_failed(name: str) -> Said:
    return Said(f"関数 {name} が失敗しました", f"the function {name} failed", "a-function-failed")


def function_throttled(name: str) -> Said:
    return Said(
        f"関数 {name} が同時実行の上限で止められました",
        f"the function {name} was throttled",
        "a-function-was-throttled",
    )


def function_alarms(stage: Stage, logical_id: str, name: str) -> dict[str, Any]:
    """Errors and throttles of one function, mailed to the organizer."""
    dimensions = [{"Name": "FunctionName", "Value": {"Ref": logical_id}}]
    return {
        f"{logical_id}ErrorsAlarm": _alarm(stage, function_failed(name), "AWS/Lambda", "Errors", dimensions, "Sum", 1),
        f"{logical_id}ThrottlesAlarm": _alarm(
            stage, function_throttled(name), "AWS/Lambda", "Throttles", dimensions, "Sum", 1
        ),
    }


def stack_alarms(stage: Stage) -> dict[str, Any]:
    """Dead letters waiting, server errors on the site, table throttling, rising bounces and complaints."""
    alarms = {
        f"{queue}Alarm": _alarm(
            stage,
            said,
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
            "Maximum",
            1,
        )
        for queue, said in DEAD_LETTERS.items()
    }
    alarms["ApiServerErrorsAlarm"] = _server_errors_alarm(stage)
    for operation in ("WriteThrottleEvents", "ReadThrottleEvents"):
        table = [{"Name": "TableName", "Value": TABLE_NAME}]
        alarms[f"Table{operation}Alarm"] = _alarm(stage, THROTTLED_TABLE, "AWS/DynamoDB", operation, table, "Sum", 1)
    alarms["MailBounceRateAlarm"] = _alarm(
        stage, BOUNCE_RATE, "AWS/SES", "Reputation.BounceRate", [], "Maximum", BOUNCE_RATE_ALARM
    )
    alarms["MailComplaintRateAlarm"] = _alarm(
        stage, COMPLAINT_RATE, "AWS/SES", "Reputation.ComplaintRate", [], "Maximum", COMPLAINT_RATE_ALARM
    )
    return alarms


def _server_errors_alarm(stage: Stage) -> dict[str, Any]:
    """API Gateway's 5XX count less the site's own 503 "busy" answers (its metric): what was not meant."""

    def stat(query_id: str, namespace: str, metric: str, dimension: dict[str, str]) -> dict[str, Any]:
        watched = {"Namespace": namespace, "MetricName": metric, "Dimensions": [dimension]}
        return {
            "Id": query_id,
            "MetricStat": {"Metric": watched, "Period": ALARM_PERIOD_SECONDS, "Stat": "Sum"},
            "ReturnData": False,
        }

    return _alarm_resource(
        stage,
        SERVER_ERRORS,
        {
            "Metrics": [
                stat("errors", "AWS/ApiGateway", "5XXError", {"Name": "ApiName", "Value": stage.stack_name}),
                stat("busy", telemetry.NAMESPACE, telemetry.Metric.BUSY_ANSWERS.value, _stage_dimension(stage)),
                {"Id": "unexpected", "Expression": "FILL(errors, 0) - FILL(busy, 0)", "ReturnData": True},
            ]
        },
        1,
    )


def _stage_dimension(stage: Stage) -> dict[str, str]:
    return {"Name": telemetry.DIMENSION, "Value": stage.name}


def _alarm(
    stage: Stage,
    said: Said,
    namespace: str,
    metric: str,
    dimensions: list[dict[str, Any]],
    statistic: str,
    threshold: float,
) -> dict[str, Any]:
    watched = {
        "Namespace": namespace,
        "MetricName": metric,
        **({"Dimensions": dimensions} if dimensions else {}),
        "Statistic": statistic,
        "Period": ALARM_PERIOD_SECONDS,
    }
    return _alarm_resource(stage, said, watched, threshold)


def _alarm_resource(stage: Stage, said: Said, watched: dict[str, Any], threshold: float) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": said.description(stage),
            **watched,
            "EvaluationPeriods": 1,
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": ALARM_TOPIC}],
            "OKActions": [{"Ref": ALARM_TOPIC}],
        },
    }


# --- the dashboard ------------------------------------------------------------------------------------

BUSINESS = (
    telemetry.Metric.REGISTRATIONS,
    telemetry.Metric.WAITING_LIST_JOINS,
    telemetry.Metric.LOTTERY_APPLICATIONS,
    telemetry.Metric.CANCELLATIONS,
    telemetry.Metric.MOVE_UPS,
    telemetry.Metric.SEATS_RELEASED,
    telemetry.Metric.SEATS_TAKEN_BACK,
)
MAIL = (
    telemetry.Metric.MAILS_SENT,
    telemetry.Metric.MAILS_FAILED,
    telemetry.Metric.MAILS_HELD,
    telemetry.Metric.MAILS_BOUNCED,
    telemetry.Metric.MAILS_COMPLAINED,
)
SITE = (telemetry.Metric.BUSY_ANSWERS, telemetry.Metric.SERVER_ERRORS)


def dashboard(stage: Stage, functions: Iterable[str]) -> dict[str, Any]:
    """One CloudWatch dashboard of the stage: what people did, the mail, the site, the functions, the queues."""
    own = {"Stage": stage.name}

    def ours(metrics: Iterable[telemetry.Metric]) -> list[list[Any]]:
        return [[telemetry.NAMESPACE, m.value, *[part for pair in own.items() for part in pair]] for m in metrics]

    api = ["AWS/ApiGateway", "{metric}", "ApiName", stage.stack_name]
    widgets = [
        _widget("申し込み / Registrations", ours(BUSINESS)),
        _widget("メール / Mail", ours(MAIL)),
        _widget(
            "サイト / Site",
            [*[[part.format(metric=name) for part in api] for name in ("Count", "4XXError", "5XXError")], *ours(SITE)],
        ),
        _widget("応答時間 / Latency (p90, ms)", [[part.format(metric="Latency") for part in api]], stat="p90"),
        _widget(
            "関数 / Functions: errors, throttles",
            [
                ["AWS/Lambda", metric, "FunctionName", f"${{{logical_id}}}"]
                for logical_id in functions
                for metric in ("Errors", "Throttles")
            ],
        ),
        _widget(
            "再送待ち / Dead letters",
            [
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"${{{queue}.QueueName}}"]
                for queue in DEAD_LETTERS
            ],
            stat="Maximum",
        ),
        _widget(
            "SES: 不達・迷惑メール報告の率 / bounce and complaint rates",
            [["AWS/SES", "Reputation.BounceRate"], ["AWS/SES", "Reputation.ComplaintRate"]],
            stat="Maximum",
        ),
    ]
    for n, widget in enumerate(widgets):
        widget.update(x=(n % 2) * 12, y=(n // 2) * 6, width=12, height=6)
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": f"{stage.stack_name}",
            "DashboardBody": {"Fn::Sub": json.dumps({"widgets": widgets}, ensure_ascii=False)},
        },
    }


def _widget(title: str, metrics: list[list[Any]], stat: str = "Sum") -> dict[str, Any]:
    return {
        "type": "metric",
        "properties": {
            "title": title,
            "metrics": metrics,
            "stat": stat,
            "period": ALARM_PERIOD_SECONDS,
            "region": "${AWS::Region}",
            "view": "timeSeries",
        },
    }
