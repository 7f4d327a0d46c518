"""The log-line bench measures both formats and shows a line of each."""

from __future__ import annotations

import json

import pytest

from bench.log_lines import CID, RID, main


def test_both_formats_are_measured_and_the_json_line_carries_the_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["--lines", "20", "--rounds", "1"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("text: ")
    assert out[0].endswith("us a line (median of 1)")
    assert out[2].startswith("json: ")
    line = json.loads(out[3])
    assert (line["conversation"], line["request"], line["level"]) == (CID, RID, "INFO")
    assert line["message"] == f"conversation {CID}: sms message accepted"
