"""The SAM transform CloudFormation applies to the template, run offline with AWS's own translator.

The pre-flight asks the region about every resource type of the result, and the tests lint it and
rehearse it: this is the plain CloudFormation that really gets deployed.
"""

from __future__ import annotations

import os
from typing import Any

from deploy.cloudformation import point_at_code

# The translator needs a code location to translate a function; any S3 object will do offline.
_PLACEHOLDER_CODE = ("uketsuke-artifacts-offline", "code.zip")


class _NoManagedPolicies:
    """The translator asks for AWS managed policies by name; this template names none."""

    def load(self) -> dict[str, str]:
        return {}


def plain_template(template: dict[str, Any], region: str, code: tuple[str, str] = _PLACEHOLDER_CODE) -> dict[str, Any]:
    """The template after the SAM transform (offline): only plain CloudFormation resource types.

    `code` is the S3 bucket and key the functions' zip is (or would be) uploaded to.
    """
    from samtranslator.translator.transform import transform  # a deploy-time tool: off the Lambda path

    uploaded = point_at_code(template, *code)
    before = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region  # the translator builds ARNs for this region
    try:
        plain: dict[str, Any] = transform(uploaded, {}, _NoManagedPolicies())
    finally:
        if before is None:
            del os.environ["AWS_DEFAULT_REGION"]
        else:
            os.environ["AWS_DEFAULT_REGION"] = before
    return plain


def resource_types(template: dict[str, Any], region: str) -> list[str]:
    """Every resource type CloudFormation will create for the template, after the transform."""
    return sorted({resource["Type"] for resource in plain_template(template, region)["Resources"].values()})
