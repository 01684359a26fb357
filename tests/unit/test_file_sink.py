"""FileStreamSinkTask on real files: a failed write (a full disk, made with RLIMIT_FSIZE in a
child process) is rolled back to the last flush, so the replay after a restart leaves no cut-off
line and every record once; lines of other writers and of earlier runs are never cut."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap

import pytest
from kconnect.api.errors import ConnectException
from kconnect.api.records import SinkRecord
from kconnect_builtins.file.sink import FileStreamSinkTask


def _records(values: list[str], first_offset: int = 0) -> list[SinkRecord]:
    return [
        SinkRecord("t", 0, None, None, None, v, kafka_offset=first_offset + i)
        for i, v in enumerate(values)
    ]


def _task(path) -> FileStreamSinkTask:
    task = FileStreamSinkTask()
    task.start({"file": str(path)})
    return task


# Runs in a child process: RLIMIT_FSIZE is per process, and Python ignores SIGXFSZ, so a write
# past the limit is cut short and the next fails with EFBIG, as on a full disk.
FULL_DISK_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    from kconnect.api.errors import ConnectException
    from kconnect.api.records import SinkRecord
    from kconnect_builtins.file.sink import FileStreamSinkTask

    path, limit = sys.argv[1], int(sys.argv[2])
    flushed = [f"flushed-{i:04d}-" + "x" * (i % 13) for i in range(300)]
    lost = [f"replayed-{i:04d}-" + "y" * (i % 17) for i in range(3000)]

    def records(values, first):
        return [
            SinkRecord("t", 0, None, None, None, v, kafka_offset=first + i)
            for i, v in enumerate(values)
        ]

    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    task = FileStreamSinkTask()
    task.start({"file": path})
    task.put(records(flushed, 0))
    task.flush({})
    error = None
    try:
        for i in range(0, len(lost), 500):  # batches, as a consumer delivers them
            task.put(records(lost[i : i + 500], len(flushed) + i))
    except ConnectException as e:
        error = str(e)
    try:
        task.stop()
    except Exception as e:  # as the runner: logged, the task is stopped anyway
        print("stop failed:", e, file=sys.stderr)
    size_after_failure = len(open(path, "rb").read())
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # space freed
    task = FileStreamSinkTask()  # the restarted task gets everything after the last flush
    task.start({"file": path})
    task.put(records(lost, len(flushed)))
    task.flush({})
    task.stop()
    print(json.dumps({"error": error, "size_after_failure": size_after_failure,
                      "expected": flushed + lost}))
    """
)


def test_a_write_cut_off_by_a_full_disk_is_rolled_back_before_the_replay(tmp_path):
    path = tmp_path / "out.txt"
    limit = 20_011  # past the flushed lines, inside the second batch, mid-line
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK_SCRIPT, str(path), str(limit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["error"] is not None, "the write past the limit did not fail"
    # No line is a cut-off record glued to a replayed one; every record is there once.
    assert path.read_text().split("\n") == [*outcome["expected"], ""]
    flushed_size = sum(len(v) + 1 for v in outcome["expected"][:300])
    assert outcome["size_after_failure"] == flushed_size
    assert f"Could not write to {path}: [Errno 27] File too large" in outcome["error"]
    assert f"truncated back to its last flush ({flushed_size} bytes)" in outcome["error"]


def test_lines_written_since_the_last_flush_are_rolled_back_on_stop(tmp_path):
    path = tmp_path / "out.txt"
    task = _task(path)
    task.put(_records(["a", "b"]))
    task.flush({})
    task.put(_records(["c"], 2))  # offsets of "c" are never committed: it is delivered again
    task.stop()
    assert path.read_text() == "a\nb\n"


def test_a_cut_off_line_from_before_the_start_is_kept_and_ended(tmp_path, caplog):
    path = tmp_path / "out.txt"
    path.write_text("done\ncut-of")
    with caplog.at_level(logging.WARNING, logger="kconnect_builtins.file.sink"):
        task = _task(path)
    assert f"The last line of {path}" in caplog.text
    task.put(_records(["next"]))
    task.flush({})
    task.put(_records(["unflushed"], 1))
    task.stop()  # rolls back to the flush, which includes the added line end
    assert path.read_text() == "done\ncut-of\nnext\n"


def test_lines_another_writer_appended_are_never_cut(tmp_path, caplog):
    path = tmp_path / "out.txt"
    task = _task(path)
    task.put(_records(["a"]))
    task.flush({})
    task.put(_records(["b"], 1))
    with open(path, "a") as other:
        other.write("other\n")
    with caplog.at_level(logging.WARNING, logger="kconnect_builtins.file.sink"):
        task.stop()
    assert path.read_text() == "a\nb\nother\n"
    assert "by another writer" in caplog.text


def test_an_unopenable_file_fails_start_naming_it(tmp_path):
    task = FileStreamSinkTask()
    with pytest.raises(ConnectException, match="Couldn't find or create file"):
        task.start({"file": str(tmp_path / "missing-dir" / "out.txt")})
    task.stop()
