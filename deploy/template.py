"""The resources merged into Chalice's SAM template: table, mail plumbing, dead letters, alarms, least-privilege IAM.

Pure: from a stage and the app's functions to a template fragment. `chalice package --merge-template`
deep-merges it over what Chalice generates (dictionaries merge, lists and values replace).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from chalicelib.config import settings as env
from chalicelib.store import schema
from chalicelib.web import edge
from deploy.logical_ids import (
    ALARM_TOPIC,
    API_FUNCTION,
    CLIENT_THROTTLE,
    JOB_DEAD_LETTERS,
    KEPT_TABLE_NAME,
    KEPT_TABLE_STREAM,
    LINK_KEY,
    MAIL_CONFIGURATION_SET,
    MAIL_DEAD_LETTERS,
    MAIL_FEEDBACK_TOPIC,
    NEW_TABLE,
    REST_API,
    TABLE,
    TABLE_ARN,
    TABLE_NAME,
    TABLE_STREAM,
)
from deploy.monitoring import dashboard, function_alarms, stack_alarms
from deploy.readings import READ_WORDS_FUNCTION, READ_WORDS_LOGICAL_ID, function_properties, layer_resource
from deploy.stage import Stage

# Two weeks: the longest SQS keeps a message, so an organizer back from holiday can still replay it.
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
# The stream keeps records 24 hours; give up well before, so a poison mail reaches the dead letters.
STREAM_MAX_RETRIES = 10
STREAM_MAX_RECORD_AGE_SECONDS = 6 * 3600
# API Gateway (REST) gives up on an integration after 29 s ("Amazon API Gateway quotas"): the site's function
# stops first, so its error is its own (logged, alarmed), never a 504 while it keeps writing.
API_TIMEOUT_SECONDS = 28


class Grant(Enum):
    """A permission a function needs; each maps to exact actions on the stack's own resources."""

    TABLE = "table"
    STREAM = "stream"
    SEND_MAIL = "send-mail"
    MAIL_DEAD_LETTERS = "mail-dead-letters"
    JOB_DEAD_LETTERS = "job-dead-letters"
    LINK_KEY = "link-key"  # signs and checks registrants' personal links
    CHECK_SENDERS = "check-senders"  # asks SES whether an event's own sender is verified, when it is saved
    READ_WORDS = "read-words"  # asks the readings function for ふりがな, when an event is saved


# What each of app.py's functions may do. A new function must be added here, or packaging stops.
FUNCTION_GRANTS: dict[str, frozenset[Grant]] = {
    API_FUNCTION: frozenset({Grant.TABLE, Grant.LINK_KEY, Grant.CHECK_SENDERS, Grant.READ_WORDS}),
    "send_reminders": frozenset({Grant.TABLE, Grant.JOB_DEAD_LETTERS}),
    "send_broadcasts": frozenset({Grant.TABLE, Grant.JOB_DEAD_LETTERS}),
    "close_registration": frozenset({Grant.TABLE, Grant.JOB_DEAD_LETTERS}),
    "draw_lotteries": frozenset({Grant.TABLE, Grant.JOB_DEAD_LETTERS}),
    "redrive_mail": frozenset({Grant.TABLE, Grant.SEND_MAIL, Grant.LINK_KEY, Grant.JOB_DEAD_LETTERS}),
    "deliver_mail": frozenset({Grant.TABLE, Grant.STREAM, Grant.SEND_MAIL, Grant.LINK_KEY, Grant.MAIL_DEAD_LETTERS}),
    "mail_feedback": frozenset({Grant.TABLE, Grant.JOB_DEAD_LETTERS}),
    READ_WORDS_FUNCTION: frozenset(),  # texts in, readings out: it touches nothing of the stack's
}
# Plain Lambda functions of app.py and the stack's SNS topic each one is subscribed to.
TOPIC_SUBSCRIPTIONS = {"mail_feedback": MAIL_FEEDBACK_TOPIC}
# The item-level actions the functions' transactions (Put/Update/Delete/ConditionCheck) need, plus reads.
# No Scan and no table management: `manage.py` does those with the organizer's own credentials.
# A test runs each function's code and checks that its role allows what it really does.
_TABLE_ACTIONS = [
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",  # a cancellation's place in line and address guard; erasing on request
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]
_STREAM_ACTIONS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
]
# SES v2 SendEmail with raw content is authorised as both, depending on the endpoint that serves it.
_SEND_ACTIONS = ["ses:SendEmail", "ses:SendRawEmail"]


class TemplateError(ValueError):
    """The app and the deploy's description of it disagree."""


@dataclass(frozen=True)
class Function:
    """One Lambda function of the app, as Chalice names it in the template."""

    name: str
    logical_id: str
    kind: str  # "api", "schedule", "stream", "topic" or "invoked" (by another function, synchronously)
    event_id: str | None = None  # the logical id of its event source inside the function, if any


def merge_template(
    stage: Stage,
    functions: Iterable[Function],
    senders: Iterable[str],
    api_stage: str,
    readings_runtime: str | None = None,
) -> dict[str, Any]:
    """The fragment to merge over Chalice's template for this stage.

    `readings_runtime`: the runtime the readings layer is built for, or None where the package has no
    layer (deploy/readings.py): then the site computes no new readings and may not invoke the function.
    """
    functions = list(functions)
    missing = [f.name for f in functions if f.name not in FUNCTION_GRANTS]
    if missing:
        raise TemplateError(f"no IAM permissions are defined for {', '.join(missing)}: add them to FUNCTION_GRANTS")
    resources: dict[str, Any] = {
        TABLE: {**table_resource(), "Condition": NEW_TABLE},
        LINK_KEY: link_key_resource(),
        **mail_resources(),
        **dead_letter_resources(),
        ALARM_TOPIC: {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": f"uketsuke {stage.name}"}},
        "AlarmSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {"TopicArn": {"Ref": ALARM_TOPIC}, "Protocol": "email", "Endpoint": stage.organizer_email},
        },
        REST_API: {"Properties": _api_properties(stage, api_stage)},
        **stack_alarms(stage),
        **client_throttle(stage, api_stage),
    }
    for function in functions:
        resources.update(function_resources(stage, function, sorted(set(senders)), api_stage, readings_runtime))
    if readings_runtime:
        resources.update(layer_resource(readings_runtime))
    resources["Dashboard"] = dashboard(stage, [function.logical_id for function in functions])
    return {
        "Description": f"uketsuke {stage.name}: event registration and notification",
        "Parameters": {
            KEPT_TABLE_NAME: {"Type": "String", "Default": "", "Description": "A kept table to take up (or empty)"},
            KEPT_TABLE_STREAM: {"Type": "String", "Default": "", "Description": "That table's stream label"},
        },
        "Conditions": {NEW_TABLE: {"Fn::Equals": [{"Ref": KEPT_TABLE_NAME}, ""]}},
        "Resources": resources,
        "Outputs": outputs(stage, api_stage),
    }


def public_url(stage: Stage, api_stage: str) -> Any:
    """The site's address: the organizer's host name, or API Gateway's own URL with the stage."""
    if stage.custom_domain:
        return f"https://{stage.custom_domain.name}"
    return {"Fn::Sub": f"https://${{{REST_API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{api_stage}"}


def table_resource() -> dict[str, Any]:
    """The registration table from the one schema in chalicelib/store/schema.py, kept when the stack goes."""
    definition = schema.table_definition("unused")
    return {
        "Type": "AWS::DynamoDB::Table",
        # Registrations outlive the stack: deleting or replacing it leaves the table for the organizer.
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BillingMode": definition["BillingMode"],
            "KeySchema": definition["KeySchema"],
            "AttributeDefinitions": definition["AttributeDefinitions"],
            "GlobalSecondaryIndexes": definition["GlobalSecondaryIndexes"],
            "StreamSpecification": {"StreamViewType": definition["StreamSpecification"]["StreamViewType"]},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True},
            "DeletionProtectionEnabled": True,
        },
    }


def link_key_resource() -> dict[str, Any]:
    """A random key generated by Secrets Manager inside the account: nobody, not even the deploy, ever sees it."""
    return {
        "Type": "AWS::SecretsManager::Secret",
        # Replacing the key would break every link already mailed; keep it with the table's data.
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "Description": "uketsuke: signs registrants' personal links",
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
        },
    }


def mail_resources() -> dict[str, Any]:
    """The SES configuration set whose bounces, complaints and rejections go to an SNS topic."""
    return {
        MAIL_CONFIGURATION_SET: {
            "Type": "AWS::SES::ConfigurationSet",
            "Properties": {
                "ReputationOptions": {"ReputationMetricsEnabled": True},
                "SendingOptions": {"SendingEnabled": True},
            },
        },
        MAIL_FEEDBACK_TOPIC: {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "uketsuke mail feedback"}},
        "MailFeedbackTopicPolicy": {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [{"Ref": MAIL_FEEDBACK_TOPIC}],
                "PolicyDocument": _policy(
                    {
                        "Sid": "SesPublishesFeedback",
                        "Effect": "Allow",
                        "Principal": {"Service": "ses.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": {"Ref": MAIL_FEEDBACK_TOPIC},
                        "Condition": {"StringEquals": {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}}},
                    }
                ),
            },
        },
        "MailFeedbackDestination": {
            "Type": "AWS::SES::ConfigurationSetEventDestination",
            "Properties": {
                "ConfigurationSetName": {"Ref": MAIL_CONFIGURATION_SET},
                "EventDestination": {
                    "Enabled": True,
                    "MatchingEventTypes": ["bounce", "complaint", "reject"],
                    "SnsDestination": {"TopicARN": {"Ref": MAIL_FEEDBACK_TOPIC}},
                },
            },
        },
    }


def dead_letter_resources() -> dict[str, Any]:
    """Where work that keeps failing ends up: stream batches of mail, and scheduled runs."""
    queue = {
        "Type": "AWS::SQS::Queue",
        "Properties": {"MessageRetentionPeriod": DEAD_LETTER_RETENTION_SECONDS, "SqsManagedSseEnabled": True},
    }
    return {MAIL_DEAD_LETTERS: queue, JOB_DEAD_LETTERS: queue}


def function_resources(
    stage: Stage, function: Function, senders: list[str], api_stage: str, readings_runtime: str | None = None
) -> dict[str, Any]:
    """A function's own log group, role and alarms, and what it overrides in Chalice's definition."""
    logs = f"{function.logical_id}Logs"
    role = f"{function.logical_id}Role"
    grants = granted(function.name, readings_runtime is not None)
    properties: dict[str, Any] = {
        "Role": {"Fn::GetAtt": [role, "Arn"]},
        # JSON: the runtime's own lines too are objects, beside ours (chalicelib/telemetry.py).
        "LoggingConfig": {"LogFormat": "JSON", "LogGroup": {"Ref": logs}},
        "Environment": {"Variables": environment(stage, function, api_stage, senders, grants)},
    }
    if function.name == READ_WORDS_FUNCTION and readings_runtime:
        properties.update(function_properties())
    if function.kind == "api":
        properties["Timeout"] = API_TIMEOUT_SECONDS
    if stage.tracing:
        properties["Tracing"] = "Active"
    if function.kind in ("schedule", "topic"):  # invoked asynchronously: failures after retries go here
        properties["DeadLetterQueue"] = {"Type": "SQS", "TargetArn": {"Fn::GetAtt": [JOB_DEAD_LETTERS, "Arn"]}}
    if function.kind == "topic" and function.event_id:
        if function.name not in TOPIC_SUBSCRIPTIONS:
            raise TemplateError(
                f"{function.name}: say which of the stack's topics it listens to in TOPIC_SUBSCRIPTIONS"
            )
        topic = {"Ref": TOPIC_SUBSCRIPTIONS[function.name]}
        properties["Events"] = {function.event_id: {"Type": "SNS", "Properties": {"Topic": topic}}}
    if function.kind == "stream" and function.event_id:
        properties["Events"] = {function.event_id: {"Properties": _stream_source()}}
    return {
        function.logical_id: {"Properties": properties},
        logs: {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"RetentionInDays": stage.log_retention_days},
        },
        role: role_resource(logs, grants, senders, stage.tracing),
        **function_alarms(stage, function.logical_id, function.name),
    }


def granted(name: str, readings_layer: bool) -> frozenset[Grant]:
    """A function's grants; asking for readings only where the package has the readings layer."""
    grants = FUNCTION_GRANTS[name]
    return grants if readings_layer else grants - {Grant.READ_WORDS}


def environment(
    stage: Stage,
    function: Function,
    api_stage: str,
    senders: Iterable[str] = (),
    grants: frozenset[Grant] | None = None,
) -> dict[str, Any]:
    """The settings chalicelib/config/settings.py reads; only functions that send mail get the public URL.

    `senders`: the addresses the role may send as; the site refuses an event whose own sender is not one of
    them (nor of their domains). `grants`: the function's, if not all FUNCTION_GRANTS gives it.
    """
    grants = FUNCTION_GRANTS[function.name] if grants is None else grants
    variables: dict[str, Any] = {
        env.TABLE_NAME: TABLE_NAME,
        env.STAGE_NAME: stage.name,
        env.DEFAULT_SENDER: stage.sender,
        env.SES_MAX_SEND_RATE: f"{stage.ses_max_send_rate:g}",
        env.SES_CONFIGURATION_SET: {"Ref": MAIL_CONFIGURATION_SET},
    }
    if Grant.SEND_MAIL in grants:
        variables[env.PUBLIC_BASE_URL] = public_url(stage, api_stage)
    if Grant.LINK_KEY in grants:
        variables[env.LINK_KEY_SECRET] = {"Ref": LINK_KEY}
    if Grant.READ_WORDS in grants:
        variables[env.READINGS_FUNCTION] = {"Ref": READ_WORDS_LOGICAL_ID}
    if function.kind == "api":  # only the site signs organizers in, and only its pages show the site's identity
        variables[env.ORGANIZERS] = ",".join(stage.signs_in)
        if senders:
            variables[env.SEND_IDENTITIES] = ",".join(_identities(senders))
        identity = {
            env.SITE_NAME: stage.site.name,
            env.SITE_NAME_EN: stage.site.name_en,
            env.PRIVACY_URL: stage.site.privacy_url,
            env.CONTACT_PHONE: stage.site.phone,
            env.SHARE_IMAGE_URL: stage.site.share_image_url,
        }
        variables.update({name: value for name, value in identity.items() if value})
        if stage.site.has_logo:
            variables[env.SITE_LOGO] = "on"
    return variables


def _stream_source() -> dict[str, Any]:
    # Only new outbox items wake the mail function: a registration writes four items, one of them mail, and
    # each mail is then written twice more (claimed, marked), which must not invoke it again.
    mail_only = {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {schema.SK: {"S": [{"prefix": schema.MAIL_PREFIX}]}}},
    }
    return {
        "Stream": TABLE_STREAM,
        # From the start of the stream: mail written while the stack was being created is not skipped.
        "StartingPosition": "TRIM_HORIZON",
        "MaximumRetryAttempts": STREAM_MAX_RETRIES,
        "MaximumRecordAgeInSeconds": STREAM_MAX_RECORD_AGE_SECONDS,
        "BisectBatchOnFunctionError": True,
        "FilterCriteria": {"Filters": [{"Pattern": json.dumps(mail_only, separators=(",", ":"))}]},
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [MAIL_DEAD_LETTERS, "Arn"]}}},
    }


def role_resource(
    log_group: str, grants: frozenset[Grant], senders: list[str], tracing: bool = False
) -> dict[str, Any]:
    """A role with exactly the function's grants, each on the stack's own ARNs."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "OwnLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::GetAtt": [log_group, "Arn"]},
        }
    ]
    if Grant.TABLE in grants:
        index_arn = {"Fn::Sub": ["${Table}/index/" + schema.BY_DUE_INDEX, {"Table": TABLE_ARN}]}
        statements.append(_allow("Table", _TABLE_ACTIONS, [TABLE_ARN, index_arn]))
    if Grant.STREAM in grants:
        statements.append(_allow("TableStream", _STREAM_ACTIONS, [TABLE_STREAM]))
    if Grant.SEND_MAIL in grants:
        statements.append(_allow("SendMail", _SEND_ACTIONS, _send_resources(senders)))
    if Grant.CHECK_SENDERS in grants:
        statements.append(_allow("CheckSenders", ["ses:GetEmailIdentity"], _identity_arns(senders)))
    if Grant.READ_WORDS in grants:
        arn = {"Fn::GetAtt": [READ_WORDS_LOGICAL_ID, "Arn"]}
        statements.append(_allow("ReadWords", ["lambda:InvokeFunction"], [arn]))
    if Grant.LINK_KEY in grants:
        statements.append(_allow("LinkKey", ["secretsmanager:GetSecretValue"], [{"Ref": LINK_KEY}]))
    if Grant.MAIL_DEAD_LETTERS in grants:
        statements.append(_allow("MailDeadLetters", ["sqs:SendMessage"], [{"Fn::GetAtt": [MAIL_DEAD_LETTERS, "Arn"]}]))
    if Grant.JOB_DEAD_LETTERS in grants:
        statements.append(_allow("JobDeadLetters", ["sqs:SendMessage"], [{"Fn::GetAtt": [JOB_DEAD_LETTERS, "Arn"]}]))
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": _policy(
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ),
            "Policies": [{"PolicyName": "least-privilege", "PolicyDocument": _policy(*statements)}],
            # X-Ray's write actions take no resource: AWS's own policy for them, rather than a wildcard here.
            **({"ManagedPolicyArns": [_XRAY_WRITE]} if tracing else {}),
        },
    }


_XRAY_WRITE = {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"}


def _identities(senders: Iterable[str]) -> list[str]:
    """Each sender address and its domain: the identities SES may authorize a send against."""
    return sorted({part for sender in senders for part in (sender, sender.rsplit("@", 1)[1])})


def _identity_arns(senders: Iterable[str]) -> list[Any]:
    return [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:ses:${{AWS::Region}}:${{AWS::AccountId}}:identity/{identity}"}
        for identity in _identities(senders)
    ]


def _send_resources(senders: list[str]) -> list[Any]:
    """SES checks the identity (the verified address or its domain) and the configuration set."""
    arns = _identity_arns(senders)
    arns.append(
        {
            "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/"
            f"${{{MAIL_CONFIGURATION_SET}}}"
        }
    )
    return arns


_THROTTLED_PAGE = (
    '<!doctype html><html lang="ja"><meta charset="utf-8"><title>アクセスが集中しています</title>'
    "<h1>アクセスが集中しています</h1><p>同じ場所からのアクセスが多いため、一時的にお待ちいただいています。"
    "数分待ってから、もう一度お試しください。</p></html>"
)


def client_throttle(stage: Stage, api_stage: str) -> dict[str, Any]:
    """Per-client throttling at the edge of the API (AWS WAF rate-based rules, keyed by address).

    Only what a flood harms is counted: the forms' POSTs and organizer sign-in, never pages, since one
    address may carry a whole prefecture's staff. Addresses the stage exempts are never counted.
    """
    limits = {"form-posts": (stage.rate_limit_posts, "/events/"), "sign-in": (stage.rate_limit_sign_in, "/sign-in")}
    limits = {name: limit for name, limit in limits.items() if limit[0]}
    if not limits:
        return {}
    metric = f"{stage.stack_name}-per-client"
    visibility = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": metric}
    exempt = _exempt_sets(stage)
    rules = [
        {
            "Name": name,
            "Priority": priority,
            "Statement": {
                "RateBasedStatement": {
                    "Limit": limit,
                    "AggregateKeyType": "IP",
                    "ScopeDownStatement": {"AndStatement": {"Statements": _counted(path, exempt)}},
                }
            },
            "Action": {"Block": {"CustomResponse": {"ResponseCode": 429, "CustomResponseBodyKey": "throttled"}}},
            "VisibilityConfig": {**visibility, "MetricName": f"{metric}-{name}"},
        }
        for priority, (name, (limit, path)) in enumerate(limits.items())
    ]
    return {
        CLIENT_THROTTLE: {
            "Type": "AWS::WAFv2::WebACL",
            "Properties": {
                "Scope": "REGIONAL",
                "DefaultAction": {"Allow": {}},
                "VisibilityConfig": visibility,
                "CustomResponseBodies": {"throttled": {"ContentType": "TEXT_HTML", "Content": _THROTTLED_PAGE}},
                "Rules": rules,
            },
        },
        **exempt,
        f"{CLIENT_THROTTLE}Association": {
            "Type": "AWS::WAFv2::WebACLAssociation",
            # The stage SAM makes for the API: the association needs it to exist first.
            "DependsOn": f"{REST_API}{api_stage}Stage",
            "Properties": {
                "ResourceArn": {
                    "Fn::Sub": f"arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}::/restapis/${{{REST_API}}}"
                    f"/stages/{api_stage}"
                },
                "WebACLArn": {"Fn::GetAtt": [CLIENT_THROTTLE, "Arn"]},
            },
        },
    }


def _matches(field: dict[str, Any], text: str, how: str) -> dict[str, Any]:
    return {
        "ByteMatchStatement": {
            "FieldToMatch": field,
            "SearchString": text,
            "PositionalConstraint": how,
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
        }
    }


def _counted(path: str, exempt: dict[str, Any]) -> list[dict[str, Any]]:
    """A POST whose path holds `path`, from an address no exempt set holds."""
    statements = [_matches({"Method": {}}, "POST", "EXACTLY"), _matches({"UriPath": {}}, path, "CONTAINS")]
    statements += [
        {"NotStatement": {"Statement": {"IPSetReferenceStatement": {"Arn": {"Fn::GetAtt": [name, "Arn"]}}}}}
        for name in exempt
    ]
    return statements


def _exempt_sets(stage: Stage) -> dict[str, Any]:
    """The stage's exempt addresses as WAF IP sets, one per IP version in use."""
    sets: dict[str, Any] = {}
    for version, blocks in (
        ("IPV4", [b for b in stage.rate_limit_exempt if ":" not in b]),
        ("IPV6", [b for b in stage.rate_limit_exempt if ":" in b]),
    ):
        if blocks:
            sets[f"{CLIENT_THROTTLE}Exempt{version.title()}"] = {
                "Type": "AWS::WAFv2::IPSet",
                "Properties": {"Scope": "REGIONAL", "IPAddressVersion": version, "Addresses": blocks},
            }
    return sets


def outputs(stage: Stage, api_stage: str) -> dict[str, Any]:
    """What the deploy prints and later commands read back from the stack."""
    return {
        "PublicUrl": {"Description": "The site", "Value": public_url(stage, api_stage)},
        "TableName": {"Description": "Registrations (kept if the stack is deleted)", "Value": TABLE_NAME},
        "MailDeadLettersUrl": {"Value": {"Ref": MAIL_DEAD_LETTERS}},
        "JobDeadLettersUrl": {"Value": {"Ref": JOB_DEAD_LETTERS}},
        "MailFeedbackTopicArn": {"Value": {"Ref": MAIL_FEEDBACK_TOPIC}},
        "AlarmTopicArn": {"Value": {"Ref": ALARM_TOPIC}},
        "LinkKeySecretArn": {"Value": {"Ref": LINK_KEY}},
        "MailConfigurationSet": {"Value": {"Ref": MAIL_CONFIGURATION_SET}},
    }


def gateway_responses(stage: Stage, api_stage: str) -> dict[str, Any]:
    """API Gateway's own answers (no route, throttled, its errors) as the site's pages (web/edge.py).

    Given on the Api (SAM writes them into the API's definition, so a change redeploys the stage).
    Header values are quoted literals, as gateway responses require; the page is the response template.
    """
    base = "" if stage.custom_domain else f"/{api_stage}"
    headers = {name: f"'{value}'" for name, value in edge.HEADERS.items()}
    responses: dict[str, Any] = {}
    for response_type, error in edge.GATEWAY_RESPONSES.items():
        page = edge.edge_page(error, base)
        responses[response_type] = {
            **({"StatusCode": str(error.status)} if error.status else {}),
            "ResponseParameters": {"Headers": headers},
            # Without an Accept the JSON template is the one used; browsers ask for HTML.
            "ResponseTemplates": {"application/json": page, "text/html": page},
        }
    return responses


def _api_properties(stage: Stage, api_stage: str) -> dict[str, Any]:
    # A fixed name, so the 5XX alarm can name the API. Any OpenApiVersion (2.0 is what Chalice writes)
    # stops SAM from adding a second stage named "Stage" beside the one declared, a stage the WAF's
    # per-client limit would not cover (SAM's AWS::Serverless::Api reference, OpenApiVersion).
    properties: dict[str, Any] = {
        "Name": stage.stack_name,
        "OpenApiVersion": "2.0",
        "GatewayResponses": gateway_responses(stage, api_stage),
        **({"TracingEnabled": True} if stage.tracing else {}),
    }
    domain = stage.custom_domain
    if domain:
        properties["Domain"] = {
            "DomainName": domain.name,
            "CertificateArn": domain.certificate_arn,
            "EndpointConfiguration": "EDGE",
            # Browsers of the last decade all speak TLS 1.2; TLS 1.0 and 1.1 are retired (RFC 8996).
            "SecurityPolicy": "TLS_1_2",
            **({"Route53": {"HostedZoneId": domain.hosted_zone_id}} if domain.hosted_zone_id else {}),
        }
    return properties


def _allow(sid: str, actions: list[str], resources: list[Any]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def _policy(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}
