"""The LLM client against a misbehaving server: a real HTTP server on 127.0.0.1 that drips
bytes, sends huge or malformed replies, HTML, ``"message": null``, escape sequences, and
error bodies that echo the key. Every case ends in one line and exit 2, nothing is echoed back."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_llm import loopback

from motionprog.errors import InputError
from motionprog.llm import configure, synthesize
from motionprog.llm.client import MAX_ANSWER_CHARS, MAX_BACKOFF_S, MAX_REPLY_BYTES, backoff, retry_after, summary

KEY = "sk-hostile-0123456789-SECRET"
VALID = 'motion "a person walks" for 2 s, seeds 1\nalways: feet.y >= 0\n'


def completion(content: str | None, message: bool = True) -> bytes:
    choice = {"index": 0, "message": {"role": "assistant", "content": content} if message else None}
    return json.dumps({"id": "c", "object": "chat.completion", "choices": [choice]}).encode()


class Hostile(BaseHTTPRequestHandler):
    """Reads the request, records it, then lets the test's ``server.behave(handler)`` answer."""

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.server.requests.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.behave(self)

    def reply(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def hostile() -> Iterator[ThreadingHTTPServer]:
    with loopback(Hostile) as server:
        server.requests, server.sent = [], []
        yield server


def ask(server, behave: Callable, **limits) -> None:
    server.behave = behave
    limits = {"timeout_s": 5.0, "max_retries": 0} | limits
    config = configure(server.url, KEY, model="m", first_timeout_s=limits["timeout_s"], **limits)
    synthesize("walk", config, rounds=2, examples=[], grammar="none")


def test_a_server_dripping_bytes_is_cut_at_the_total_deadline(hostile):
    def drip(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        try:
            for _ in range(1000):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                hostile.sent.append(1)
                time.sleep(0.05)
        except OSError:
            pass

    with pytest.raises(InputError, match=r"did not answer within 1 s \(0 retries\)"):
        ask(hostile, drip, timeout_s=1.0)
    time.sleep(0.5)
    assert len(hostile.sent) < 200  # a per-read timeout would have taken all 1000 bytes (50 s)


def test_dripped_headers_are_cut_too(hostile):
    def drip_headers(handler) -> None:
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                hostile.sent.append(1)
                time.sleep(0.05)
        except OSError:
            pass

    with pytest.raises(InputError, match="did not answer within 1 s"):
        ask(hostile, drip_headers, timeout_s=1.0)
    time.sleep(0.5)
    assert len(hostile.sent) < 200


def test_retry_after_is_capped_and_obeyed_below_the_cap(hostile):
    assert retry_after({"retry-after": "50"}) == 50.0 and backoff(0, 50.0) == MAX_BACKOFF_S == 8.0
    assert backoff(0, retry_after({"retry-after-ms": "250"})) == 0.25
    assert backoff(5, None) == 8.0 and backoff(1, None) == 1.0 and backoff(0, -3.0) == 0.0
    assert retry_after({"retry-after": "soon"}) is None
    answers = [(503, b'{"error": {"message": "busy"}}', {"Retry_After": "0.3"}), (200, completion(VALID), {})]

    def busy_then_ok(handler) -> None:
        status, body, headers = answers.pop(0)
        hostile.sent.append(time.monotonic())
        handler.reply(status, body, **headers)

    ask(hostile, busy_then_ok, max_retries=1)
    assert len(hostile.requests) == 2 and hostile.sent[1] - hostile.sent[0] >= 0.3


@pytest.mark.parametrize("declared", [True, False])
def test_a_reply_over_the_size_limit_is_refused_and_never_sent_back(hostile, declared):
    huge = completion("x" * (MAX_REPLY_BYTES + 10))

    def flood(handler) -> None:
        handler.send_response(200)
        if declared:
            handler.send_header("Content-Length", str(len(huge)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        try:
            handler.wfile.write(huge)
        except OSError:
            pass

    with pytest.raises(InputError, match=f"over the limit of {MAX_REPLY_BYTES}|more than {MAX_REPLY_BYTES} bytes"):
        ask(hostile, flood)
    assert len(hostile.requests) == 1


def test_an_overlong_answer_is_not_echoed_in_a_repair(hostile):
    with pytest.raises(InputError, match=f"answer of {MAX_ANSWER_CHARS + 1} characters, over the limit"):
        ask(hostile, lambda h: h.reply(200, completion("y" * (MAX_ANSWER_CHARS + 1))))
    assert len(hostile.requests) == 1


@pytest.mark.parametrize(("body", "content_type", "message"), [
    (b"{not json", "application/json", "sent text that is not JSON, not a chat completion"),
    (b"<!DOCTYPE html><html><body>Bad gateway</body></html>", "text/html", "sent an HTML page, not a chat completion"),
    (completion(None, message=False), "application/json", "sent a choice without a message"),
    (b'{"choices": []}', "application/json", "sent an answer with no choices"),
    (b'{"choices": [{"message": {"content": {"a": 1}}}]}', "application/json", "sent a message whose content is not text"),
    (b"[1, 2]", "application/json", "sent an answer with no choices"),
    (b"\xff\xfe", "application/json", "sent text that is not JSON, not a chat completion"),
])
def test_answers_that_are_not_chat_completions_give_one_line(hostile, cli, tmp_path, body, content_type, message):
    hostile.behave = lambda h: h.reply(200, body, content_type)
    status, output = cli("prompt", "walk", "-o", tmp_path / "w.mprog", "--base-url", hostile.url, "--retries", "0")
    assert status == 2 and output == f"error: the language model at {hostile.url} {message}\n"
    assert list(tmp_path.iterdir()) == []


def test_error_bodies_are_one_line_without_the_key(hostile, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HOSTILE_KEY", KEY)
    echo = json.dumps({"error": {"message": f"bad key {KEY}\n\x1b[31mreally\x1b[0m bad"}}).encode()
    hostile.behave = lambda h: h.reply(401, echo)
    status, output = cli("prompt", "walk", "-o", tmp_path / "w.mprog", "--base-url", hostile.url,
                         "--api-key-env", "HOSTILE_KEY")
    assert status == 2 and output.count("\n") == 1 and KEY not in output and "\x1b" not in output
    assert output.startswith("error: the language model at") and "rejected the API key (HTTP 401): bad key *** " in output
    hostile.behave = lambda h: h.reply(500, b"<html><body>" + b"x" * 5000 + b"</body></html>", "text/html")
    status, output = cli("prompt", "walk", "-o", tmp_path / "w.mprog", "--base-url", hostile.url, "--retries", "0")
    assert status == 2 and output.endswith("answered HTTP 500: an HTML page (0 retries)\n")
    assert summary(b'{"error": "x' + b"z" * 500 + b'"}', KEY).endswith("...") and len(summary(b"q" * 999, KEY)) == 203


def test_escape_sequences_in_a_reply_never_reach_the_terminal(hostile, cli, tmp_path):
    program = 'motion "walk \x1b]0;owned\x07\x1b[2J" for 2 s, seeds 1\nalways: feet.y >= 0\n'
    hostile.behave = lambda h: h.reply(200, completion(f"```mprog\n{program}```"))
    status, output = cli("prompt", "walk", "-o", tmp_path / "w.mprog", "--base-url", hostile.url, "--rounds", "1")
    assert "\x1b" not in output and "\x07" not in output
    assert "\\x1b" in output, output


def test_a_base_url_with_credentials_is_not_shown(hostile):
    url = hostile.url.replace("http://", "http://user:pw-secret@")
    hostile.behave = lambda h: h.reply(200, b"{nope")
    with pytest.raises(InputError) as caught:
        synthesize("walk", configure(url, None, timeout_s=5.0, max_retries=0), rounds=1, examples=[], grammar="none")
    assert "pw-secret" not in str(caught.value) and hostile.url in str(caught.value)
    with pytest.raises(InputError, match="must start with http:// or https://"):
        configure("file:///etc/passwd", None)


@given(out=st.sampled_from(["w.mprog", "w.npz", "scene.txt", "", "sub/w.mprog", "blocker/w.mprog"]),
       scene=st.sampled_from([None, "scene.txt", "binary.bin", "missing.txt", "big.txt", "."]),
       extra=st.lists(st.sampled_from(["--rounds", "0", "11", "1", "--timeout", "-1", "nan", "--retries", "9",
                                       "--max-tokens", "3"]), max_size=3),
       answer=st.sampled_from([completion(VALID), b"<html>", completion("\x1b[2J" + VALID)]))
@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_prompt_answers_every_argument_with_a_program_or_one_line(hostile, cli, tmp_path, out, scene, extra, answer):
    (tmp_path / "scene.txt").write_text("scene {\n  bar = box(center = (0, 1, 0), size = (1, 1, 1))\n}\n")
    (tmp_path / "binary.bin").write_bytes(b"\xff\xfe\x00" * 10)
    (tmp_path / "big.txt").write_text("#" * (2 << 20))
    (tmp_path / "blocker").write_text("a file, not a folder")
    hostile.behave = lambda h: h.reply(200, answer)
    args = ["prompt", "walk", "-o", tmp_path / out, "--base-url", hostile.url, "--retries", "0", *extra]
    status, output = cli(*(args + (["--scene", tmp_path / scene] if scene else [])))
    assert "Traceback" not in output and "\x1b" not in output
    if status != 0 and "─ Error ─" not in output:  # typer's own usage errors come boxed
        assert status == 2 and output.splitlines()[-1].startswith("error: "), output
    assert (tmp_path / "scene.txt").read_text().startswith("scene {")
