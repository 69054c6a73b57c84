"""The shared backend contract (tests/backend_suite.py) against every format the records declare."""

from __future__ import annotations

import pytest
from backend_suite import (
    CASES,
    BackendContract,
    Case,
    damaged_input_is_refused_by_name,
    make_opener,
    read_only_formats_refuse_to_write,
)

from softhsm import softhsm  # noqa: F401  (the pytest fixture the token case asks for)


class TestEveryBackend(BackendContract):
    @pytest.fixture(params=CASES, ids=[case.id for case in CASES])
    def opener(self, request, tmp_path):
        return make_opener(request.param, tmp_path, request)


@pytest.mark.parametrize("case", [case for case in CASES if case.files], ids=lambda case: case.id)
def test_damaged_input_is_refused_by_name(case: Case, tmp_path, request):
    damaged_input_is_refused_by_name(make_opener(case, tmp_path, request))


def test_read_only_formats_refuse_to_write(tmp_path):
    read_only_formats_refuse_to_write(tmp_path)
