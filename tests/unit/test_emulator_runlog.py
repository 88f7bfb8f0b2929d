"""What a run tells while it runs: simulated time in lambda.log, one progress line a day."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

from emulator.runlog import Progress, SimulatedTimeLog

NOW = datetime(2027, 2, 15, 9, 0, 5, tzinfo=UTC)


def test_given_json_lines_when_written_then_each_carries_simulated_time_first():
    # Given a log at a simulated instant
    log = SimulatedTimeLog(lambda: NOW)
    # When a Powertools line, two lines at once and a line in pieces (print) are written
    log.write('{"level": "INFO", "timestamp": "2026-11-26 10:00:00,000"}\n')
    log.write('{"a": 1}\n{"b": 2}\n')
    log.write('{"c": ')
    log.write("3}")
    log.write("\n")
    # Then every line is still JSON, with the simulated time next to the real one
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [next(iter(line)) for line in lines] == ["simulated_time"] * 4
    assert {line["simulated_time"] for line in lines} == {"2027-02-15T09:00:05Z"}
    assert lines[0]["timestamp"] == "2026-11-26 10:00:00,000"
    assert [line.get("c") for line in lines] == [None, None, None, 3]


def test_given_text_that_is_not_a_json_object_when_written_then_it_is_kept_as_is():
    log = SimulatedTimeLog(lambda: NOW)
    text = 'plain words\n{}\n{\n  "x": [1]\n}\n[1, 2]\n'
    assert log.write(text) == len(text)
    assert log.getvalue() == text


def test_given_progress_when_days_end_then_one_line_per_day_once():
    # Given progress over three days
    stream = io.StringIO()
    progress = Progress(date(2027, 2, 15), 3, enabled=True, stream=stream)
    # When two days end (the first reported twice)
    progress.day_done(date(2027, 2, 15), 4, 10)
    progress.day_done(date(2027, 2, 15), 5, 10)
    progress.day_done(date(2027, 2, 16), 12, 3)
    # Then one line per day names the day, the messages so far and what waits
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("day 1/3 2027-02-15: 4 messages sent so far, 10 queued")
    assert lines[1].startswith("day 2/3 2027-02-16: 12 messages sent so far, 3 queued")


def test_given_quiet_progress_when_a_day_ends_then_nothing_is_printed():
    stream = io.StringIO()
    Progress(date(2027, 2, 15), 3, enabled=False, stream=stream).day_done(date(2027, 2, 15), 1, 1)
    assert stream.getvalue() == ""
