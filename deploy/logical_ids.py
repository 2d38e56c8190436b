"""The logical ids of the stack's own resources: one place, for the template, its monitoring and the tests."""

API_FUNCTION = "api_handler"
API_LOGICAL_ID = "APIHandler"
TABLE = "Table"
MAIL_CONFIGURATION_SET = "MailConfigurationSet"
MAIL_FEEDBACK_TOPIC = "MailFeedbackTopic"
ALARM_TOPIC = "AlarmTopic"
MAIL_DEAD_LETTERS = "MailDeadLetters"
JOB_DEAD_LETTERS = "JobDeadLetters"
REST_API = "RestAPI"
LINK_KEY = "LinkKey"
CLIENT_THROTTLE = "ClientThrottle"
READINGS_LAYER = "ReadingsLayer"  # SudachiPy and its dictionary, for the readings function (deploy/readings.py)

# A table kept by an earlier stack of the same stage (`make destroy` keeps it) is taken up again by a new
# stack through these parameters (deploy/cloudformation.py finds it); empty, the stack makes its own table.
KEPT_TABLE_NAME = "KeptTableName"
KEPT_TABLE_STREAM = "KeptTableStreamLabel"
NEW_TABLE = "NewTable"  # the condition: this stack makes (and keeps) its own table
TABLE_NAME = {"Fn::If": [NEW_TABLE, {"Ref": TABLE}, {"Ref": KEPT_TABLE_NAME}]}
_KEPT_ARN = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${" + KEPT_TABLE_NAME + "}"
TABLE_ARN = {"Fn::If": [NEW_TABLE, {"Fn::GetAtt": [TABLE, "Arn"]}, {"Fn::Sub": _KEPT_ARN}]}
TABLE_STREAM = {
    "Fn::If": [
        NEW_TABLE,
        {"Fn::GetAtt": [TABLE, "StreamArn"]},
        {"Fn::Sub": _KEPT_ARN + "/stream/${" + KEPT_TABLE_STREAM + "}"},
    ]
}
