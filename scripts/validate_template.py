"""Validate template.yaml offline: cfn-lint, then the SAM transform itself.

cfn-lint checks CloudFormation resources, informational rules (I...) included: any finding of
any level fails, so a rule that does not apply is ignored explicitly, with the reason, in the
template's ``Metadata: cfn-lint`` section. The SAM transform (samtranslator, the code behind
``sam validate`` and CloudFormation's own transform) rejects invalid SAM properties such as a
misspelt SQS event property. Exit status is non-zero if either finds a problem.

Usage: python scripts/validate_template.py [template.yaml]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.template import load_template  # noqa: E402 - after the path is set


def load(path: Path) -> dict[str, Any]:
    return load_template(path)


class _NoManagedPolicies:
    """Offline stand-in for the IAM lookup of AWS managed policy ARNs (none are used)."""

    def load(self) -> dict[str, str]:
        return {}


def local_artifact_errors(template: dict[str, Any], base: Path) -> list[str]:
    """Check local CodeUri/ContentUri folders and point them at S3 as ``sam package`` would."""
    errors = []
    handler = template.get("Globals", {}).get("Function", {}).get("Handler", "")
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        key = {
            "AWS::Serverless::Function": "CodeUri",
            "AWS::Serverless::LayerVersion": "ContentUri",
        }.get(resource.get("Type"))
        uri = properties.get(key) if key else None
        if not isinstance(uri, str) or uri.startswith("s3://"):
            continue
        folder = base / uri
        if not folder.is_dir():
            errors.append(f"{logical_id}: {key} {uri} is not a folder")
        elif key == "CodeUri":
            module = properties.get("Handler", handler).rsplit(".", 1)[0]
            if not (folder / f"{module}.py").is_file():
                errors.append(f"{logical_id}: {uri}{module}.py does not exist")
        properties[key] = f"s3://local-artifacts/{uri.strip('/')}"
    return errors


def sam_transform_errors(template: dict[str, Any]) -> list[str]:
    parameters = {
        name: spec.get("Default", "placeholder@example.com" if name == "SenderEmail" else "x")
        for name, spec in template.get("Parameters", {}).items()
    }
    parameters.update(
        {
            "AWS::Region": "us-east-1",
            "AWS::AccountId": "123456789012",
            "AWS::Partition": "aws",
            "AWS::StackName": "lifecycle",
        }
    )
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the transform needs a region
    try:
        transform(template, parameters, _NoManagedPolicies())
    except InvalidDocumentException as exc:
        return [str(cause) for cause in exc.causes] or [str(exc)]
    return []


# Informational rules are off by default in cfn-lint; they catch e.g. stateful resources without
# an explicit DeletionPolicy (I3011). cfn-lint's exit status is a bit mask (2 error, 4 warning,
# 8 informational): with the I rules included, any finding makes it non-zero.
CFN_LINT_ARGS = ("--include-checks", "I")


def validate(path: Path, base: Path | None = None) -> list[str]:
    """Every problem cfn-lint and the SAM transform find in ``path`` (empty when valid).

    ``base`` is the folder CodeUri/ContentUri are relative to (default: the template's).
    """
    problems = []
    lint = subprocess.run(  # noqa: S603
        [str(Path(sys.executable).parent / "cfn-lint"), *CFN_LINT_ARGS, "--", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if lint.returncode != 0:
        problems.append(f"cfn-lint: {lint.stdout}{lint.stderr}".strip())
    template = load(path)
    problems += [f"artifacts: {e}" for e in local_artifact_errors(template, base or path.parent)]
    problems += [f"SAM transform: {e}" for e in sam_transform_errors(template)]
    return problems


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else ROOT / "template.yaml"
    problems = validate(path)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{path.name}: cfn-lint and SAM transform OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
