"""``sigilctl schema brief`` describes each job type's params, and agrees with the models.

The same good and bad briefs go through an off-the-shelf JSON Schema validator (jsonschema) and
through sigilctl's own validation (the Brief model, then the job type's params model): both
accept the good ones and both refuse the bad ones.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sigilctl.brief import Brief
from sigilctl.errors import InputError
from sigilctl.pipelines import get_pipeline
from sigilctl.schemas import json_schema
from tests.helpers import REPO


def example(job_id: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "jobs" / job_id / "brief.yaml").read_text())
    return data


def with_params(job_id: str, **params: Any) -> dict[str, Any]:
    brief = copy.deepcopy(example(job_id))
    for key, value in params.items():
        if value is DROP:
            brief["params"].pop(key)
        else:
            brief["params"][key] = value
    return brief


DROP = object()
CASES = [
    # (label, brief, valid)
    ("instagram example", with_params("ig-test-001"), True),
    ("instagram count 20", with_params("ig-test-001", count=20), True),
    ("instagram count 0", with_params("ig-test-001", count=0), False),
    ("instagram count 21", with_params("ig-test-001", count=21), False),
    ("instagram count text", with_params("ig-test-001", count="three"), False),
    ("instagram empty topic", with_params("ig-test-001", topic=""), False),
    ("instagram no topic", with_params("ig-test-001", topic=DROP), False),
    ("instagram unknown param", with_params("ig-test-001", tone="loud"), False),
    ("email example", with_params("email-test-001"), True),
    ("email defaults", with_params("email-test-001", subject_lines=DROP, sections=DROP), True),
    ("email no cta", with_params("email-test-001", call_to_action=DROP), True),
    ("email 0 subject lines", with_params("email-test-001", subject_lines=0), False),
    ("email 9 sections", with_params("email-test-001", sections=9), False),
    ("email instagram's count", with_params("email-test-001", count=3), False),
    ("email cta too long", with_params("email-test-001", call_to_action="x" * 81), False),
]


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json_schema("brief")
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def accepted_by_sigilctl(brief: dict[str, Any]) -> bool:
    try:
        model = Brief.model_validate(brief)
        get_pipeline(model.job_type).parse_params(model.params, source="brief.yaml")
    except (InputError, ValueError):
        return False
    return True


@pytest.mark.parametrize(("label", "brief", "valid"), CASES, ids=[c[0] for c in CASES])
def test_schema_and_models_agree(
    validator: jsonschema.protocols.Validator, label: str, brief: dict[str, Any], valid: bool
) -> None:
    assert validator.is_valid(brief) is valid, label
    assert accepted_by_sigilctl(brief) is valid, label


def test_count_zero_is_refused_at_params_count(validator: jsonschema.protocols.Validator) -> None:
    errors = list(validator.iter_errors(with_params("ig-test-001", count=0)))
    assert [list(e.absolute_path) for e in errors] == [["params", "count"]]
    assert "minimum of 1" in errors[0].message


def test_an_unregistered_job_type_is_refused(validator: jsonschema.protocols.Validator) -> None:
    brief = example("ig-test-001") | {"job_type": "no_such_type"}
    assert not validator.is_valid(brief)


def test_each_type_is_described_with_its_version_and_package() -> None:
    schema = json_schema("brief")
    assert schema["properties"]["job_type"]["enum"] == ["email_campaign", "instagram_copy"]
    described = schema["$defs"]["instagram_copy.params"]["description"]
    assert described.startswith("params of job type instagram_copy 1.0.0 (sigilctl ")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_shipped_brief_validates(validator: jsonschema.protocols.Validator) -> None:
    briefs = sorted(REPO.glob("jobs/*/brief.yaml")) + sorted(
        REPO.glob("sigilctl/smoke/example/jobs/*/brief.yaml")
    )
    assert len(briefs) >= 4
    for path in briefs:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(Path(path).read_text()))]
        assert not errors, (path, errors)
