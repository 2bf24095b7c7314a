"""`motionprog watch` in a real process on the tiny model: a save re-solves, warm-started when
the header is unchanged, and Ctrl-C leaves the last good result in place."""

from __future__ import annotations

import functools
import http.server
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading

import pytest

from motionprog.motion import Motion, load_npz
from motionprog.render.viewer import write_viewer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

PROGRAM = """motion "a person walks" for 40 frames, seeds 4
a: at frame 10: pelvis.y in [1.0, 1.01]
b: at frame 30: pelvis.y in [0.85, 0.86]
c: at frame 20: left_wrist.x in [0.5, 0.51]
"""
"""Three 1 cm bands the tiny model meets after a few iterations (tests/test_optimize.py)."""

WAIT = 300.0


def lines_of(process: subprocess.Popen) -> queue.Queue:
    """Every line the process prints (stdout and stderr), as it prints it."""
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def wait_for(lines: queue.Queue, pattern: str, seen: list[str]) -> re.Match:
    while True:
        line = lines.get(timeout=WAIT)
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found


def test_a_saved_edit_re_solves_warm_and_ctrl_c_keeps_the_last_result(tmp_path, tiny_weights):
    program, out, page = tmp_path / "bands.mprog", tmp_path / "out.npz", tmp_path / "out.html"
    program.write_text(PROGRAM)
    process = subprocess.Popen(
        [sys.executable, "-m", "motionprog", "watch", str(program), "-o", str(out), "--view", str(page),
         "--model", str(tiny_weights), "--steps", "4", "--iters", "40", "--device", "cpu", "--natural-weight", "0",
         "--poll", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "COLUMNS": "200"})
    lines, seen = lines_of(process), []
    try:
        first = wait_for(lines, r"solve 1 \((\w+) start\): (\d+) iterations, satisfied", seen)
        first_page = page.read_text()
        assert first.group(1) == "cold" and int(first.group(2)) > 0, "".join(seen)
        program.write_text(PROGRAM.replace("[0.85, 0.86]", "[0.855, 0.865]"))
        second = wait_for(lines, r"solve 2 \((\w+) start\): (\d+) iterations, satisfied", seen)
        assert second.group(1) == "warm" and int(second.group(2)) < int(first.group(2)), "".join(seen)
        pelvis = float(load_npz(out).joints[30, 0, 1])
        assert 0.855 <= pelvis <= 0.865
        assert page.read_text() != first_page and "location.reload()" in page.read_text()
        program.write_text(PROGRAM.replace("pelvis.y in", "pelvis.why in"))
        wait_for(lines, r"bands\.mprog:2:\d+: error: .*why", seen)
    finally:
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=WAIT)
    assert status == 128 + signal.SIGINT
    assert float(load_npz(out).joints[30, 0, 1]) == pelvis
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bands.mprog", "out.html", "out.npz"]


def test_the_live_viewer_reloads_itself_when_its_file_is_rewritten(swinging_joints, tmp_path):
    """Served over loopback http and opened in headless Chromium, as a user would open it."""
    sync_api = pytest.importorskip("playwright.sync_api")
    path = tmp_path / "view.html"
    write_viewer(Motion(swinging_joints, text="first walk"), path, live=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/view.html")
                assert page.title() == "first walk - motionprog"
                page.evaluate("window.untouched = true")
                page.wait_for_timeout(1500)  # polls that find the same page change nothing
                assert page.evaluate("window.untouched") is True
                write_viewer(Motion(swinging_joints[::-1].copy(), text="second walk"), path, live=True)
                page.wait_for_function("document.title === 'second walk - motionprog'", timeout=20000)
            finally:
                browser.close()
    finally:
        server.shutdown()
