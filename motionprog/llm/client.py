"""The OpenAI-compatible chat client: one request, bounded in time, retries, size and tokens.

It speaks the chat-completions wire format over the standard library's HTTP client, so any
server that does works (OpenAI, vLLM, llama.cpp, Ollama...). Every bound is the client's own:

- ``timeout_s`` is a total deadline for one HTTP request (connect, send, every read): at the
  deadline the socket is shut down, so a server dripping a byte at a time cannot hold it;
- retries (429, 5xx, timeouts, lost connections) wait 0.5 s doubling, and a ``Retry-After``
  is obeyed only up to the same :data:`MAX_BACKOFF_S` cap;
- a reply body over :data:`MAX_REPLY_BYTES` is refused unread, an answer over
  :data:`MAX_ANSWER_CHARS` is refused and never sent back to the server;
- anything that is not a chat completion (invalid JSON, an HTML page, ``"message": null``)
  is a one-line InputError, and an error body is summarised in one line (the server's reason).

The library never reads environment variables: the CLI resolves flags and ``OPENAI_BASE_URL``
/ ``OPENAI_API_KEY`` and passes them in. The API key is held only by the config: it is never
part of an error message (a server that echoes it back gets it masked), a log line, a report
or a file.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import re
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from motionprog.errors import InputError

OPENAI_URL = "https://api.openai.com/v1"
"""Base URL used when only an API key is given."""
DEFAULT_MODEL = "gpt-5-mini"
"""A model that supports custom tools with a Lark grammar."""
UNUSED_KEY = "no-key"
"""Sent to a server that needs no key (a local one): the client requires some value."""
TOOL_NAME = "motionprog_program"
"""The custom tool whose input is the program text."""
REJECTED_FEATURE_STATUS = (500, 501)
"""Server-error statuses that, besides every 4xx but 401, 403, 408, 409 and 429, mean the
server rejects a grammar feature of the request (llama.cpp answers 500 to custom tools)."""
RETRY_STATUS = (408, 409, 429)
"""Statuses retried besides every 5xx."""
FIRST_BACKOFF_S = 0.5
"""Wait before the first retry; it doubles at each further retry."""
MAX_BACKOFF_S = 8.0
"""Longest wait between two tries, whatever a ``Retry-After`` header asks."""
MAX_REPLY_BYTES = 1 << 20
"""Largest reply body read (1 MiB); a longer one is refused without being read."""
MAX_ANSWER_CHARS = 32_000
"""Longest answer (text or tool input) used; a program is far shorter."""
SUMMARY_CHARS = 200
"""Longest summary of an error body in a message."""


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to ask: the endpoint, the model and every bound on a request.

    timeout_s: seconds one HTTP request may take in all (connect, send and every read).
    max_retries: retries of one request on lost connections, timeouts, 408/409/429 and 5xx,
        waiting 0.5 s doubling (a ``Retry-After`` header is obeyed), never more than 8 s.
    max_tokens: most tokens of one answer. first_timeout_s: the deadline of a session's first
        request, which may have to wait for a CPU server to load the model and read the whole
        prompt. temperature: sent only when set (the server's default otherwise; some hosted
        models accept no other); 0 makes a small local model follow its examples most closely.
        ``api_key`` never appears in ``repr``.
    """

    base_url: str
    api_key: str = field(default=UNUSED_KEY, repr=False)
    model: str = DEFAULT_MODEL
    timeout_s: float = 60.0
    max_retries: int = 2
    max_tokens: int = 512
    first_timeout_s: float = 900.0
    temperature: float | None = None


@dataclass(frozen=True)
class Reply:
    """One answer: ``text`` (plain content), ``tool_input`` (the custom tool's input, if called)
    and ``prompt_tokens`` (the prompt's size as the server counted it, when it says)."""

    text: str
    tool_input: str | None
    prompt_tokens: int | None = None


def configure(base_url: str | None, api_key: str | None, model: str = DEFAULT_MODEL,
              timeout_s: float = 60.0, max_retries: int = 2, max_tokens: int = 512,
              first_timeout_s: float = 900.0, temperature: float | None = None) -> LLMConfig:
    """An :class:`LLMConfig`, or InputError when neither a base URL nor a key is given.

    A key alone means the OpenAI API; a base URL alone means a server that needs no key.
    """
    if not base_url and not api_key:
        raise InputError("no language model configured: pass --base-url URL (or set OPENAI_BASE_URL) "
                         "for a local server, or set OPENAI_API_KEY for the OpenAI API")
    if not timeout_s > 0 or not first_timeout_s > 0 or max_retries < 0 or max_tokens < 1:
        raise InputError(f"bad limits for the language model: timeout {timeout_s} s (first request "
                         f"{first_timeout_s} s), {max_retries} retries, {max_tokens} tokens")
    if temperature is not None and not 0 <= temperature <= 2:
        raise InputError(f"the temperature must be between 0 and 2, got {temperature}")
    url = urllib.parse.urlsplit((base_url or OPENAI_URL).rstrip("/"))
    if url.scheme not in ("http", "https") or not url.hostname:
        raise InputError(f"the language model's base URL must start with http:// or https://, got {public_url(url)!r}")
    return LLMConfig(base_url=url.geturl(), api_key=api_key or UNUSED_KEY, model=model, timeout_s=timeout_s,
                     max_retries=max_retries, max_tokens=max_tokens, first_timeout_s=first_timeout_s,
                     temperature=temperature)


def public_url(url: urllib.parse.SplitResult) -> str:
    """``url`` as shown in messages: without a user name or password."""
    host = url.hostname or ""
    return url._replace(netloc=f"{host}:{url.port}" if url.port else host).geturl()


def program_tool(grammar: str) -> dict[str, Any]:
    """The custom tool whose input must follow ``grammar`` (Lark syntax, OpenAI's dialect)."""
    return {"type": "custom", "custom": {
        "name": TOOL_NAME,
        "description": "Submit one complete motionprog program (.mprog source text).",
        "format": {"type": "grammar", "grammar": {"syntax": "lark", "definition": grammar}},
    }}


class FeatureRejected(Exception):
    """The server rejected a grammar feature of the request (HTTP ``status``, its ``reason``):
    the caller may ask again without it."""

    def __init__(self, status: int, reason: str):
        super().__init__(f"answered HTTP {status}" + (f": {reason}" if reason else ""))
        self.status = status
        self.reason = reason


class _Retry(Exception):
    """A try that may be repeated: ``kind`` (timeout, connection or status), the ``reason`` for
    the message, and the ``wait_s`` the server asked for."""

    def __init__(self, kind: str, reason: str = "", wait_s: float | None = None):
        super().__init__(reason or kind)
        self.kind = kind
        self.wait_s = wait_s


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


def _exchange(config: LLMConfig, body: bytes | None, timeout_s: float, path: str = "/chat/completions") -> _Answer:
    """POST ``body`` (GET without one) to ``path`` under the base URL within ``timeout_s`` in all.

    A timer shuts the socket down at the deadline, which ends any read in progress.
    Raises _Retry on timeouts and lost connections, InputError on an oversized reply.
    """
    url = urllib.parse.urlsplit(config.base_url)
    kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = kind(url.hostname, url.port, timeout=timeout_s)
    expired = threading.Event()
    opened: list[socket.socket] = []  # the socket outlives connection.sock once a response owns it

    def expire() -> None:
        expired.set()
        for sock in opened:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(timeout_s, expire)
    timer.daemon = True
    timer.start()
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               "Authorization": f"Bearer {config.api_key}"}
    response = None
    try:
        connection.connect()
        opened.append(connection.sock)
        if expired.is_set():
            raise _Retry("timeout")
        connection.request("GET" if body is None else "POST", url.path + path, body=body, headers=headers)
        response = connection.getresponse()
        declared = response.getheader("Content-Length", "")
        if declared.isdecimal() and int(declared) > MAX_REPLY_BYTES:
            raise InputError(f"{where(config)} sent a reply of {declared} bytes, over the limit of {MAX_REPLY_BYTES}")
        data = response.read(MAX_REPLY_BYTES + 1)
        if len(data) > MAX_REPLY_BYTES:
            raise InputError(f"{where(config)} sent a reply of more than {MAX_REPLY_BYTES} bytes; it is not used")
        if expired.is_set():
            raise _Retry("timeout")
        return _Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        raise _Retry("timeout" if expired.is_set() or isinstance(exc, TimeoutError) else "connection") from None
    finally:
        timer.cancel()
        if response is not None:
            response.close()
        connection.close()


def where(config: LLMConfig) -> str:
    """The endpoint as named in messages: its URL without credentials."""
    return f"the language model at {public_url(urllib.parse.urlsplit(config.base_url))}"


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds a ``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms`` header asks for."""
    try:
        if "retry-after-ms" in headers:
            return float(headers["retry-after-ms"]) / 1000.0
        value = headers.get("retry-after")
        if value is None:
            return None
        if value.strip().replace(".", "", 1).isdecimal():
            return float(value)
        when = email.utils.parsedate_to_datetime(value)
        return when.timestamp() - time.time()
    except (TypeError, ValueError, OverflowError):
        return None


def backoff(retry: int, asked_s: float | None) -> float:
    """Seconds to wait before retry number ``retry`` (0 first): the server's ask or 0.5 s
    doubling, in [0, :data:`MAX_BACKOFF_S`]."""
    wait = FIRST_BACKOFF_S * 2.0**retry if asked_s is None else asked_s
    return min(max(wait, 0.0), MAX_BACKOFF_S)


PYDANTIC_MSG = re.compile(r"""'msg': (?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
"""The reasons in a validation error rendered as Python (llama-cpp-python's 500 to a custom tool)."""


def summary(body: bytes, secret: str) -> str:
    """The server's reason in an error body, one line of at most :data:`SUMMARY_CHARS`
    characters, control characters dropped and ``secret`` masked."""
    text = body.decode("utf-8", errors="replace")
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    error = document.get("error") if isinstance(document, dict) else None
    message = error.get("message") if isinstance(error, dict) else error if isinstance(error, str) else None
    if message is None and isinstance(document, dict) and isinstance(document.get("message"), str):
        message = document["message"]  # vLLM's older error shape
    detail = document.get("detail") if isinstance(document, dict) else None
    if isinstance(detail, list):  # FastAPI's validation errors
        message = "; ".join(str(d.get("msg")) for d in detail if isinstance(d, dict) and "msg" in d) or message
    if isinstance(message, str):
        reasons = dict.fromkeys(double or single for double, single in PYDANTIC_MSG.findall(message))
        text = "; ".join(reasons) or message
    elif text.lstrip().startswith("<"):
        text = "an HTML page"
    line = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    if secret and secret != UNUSED_KEY:
        line = line.replace(secret, "***")
    return line[:SUMMARY_CHARS] + ("..." if len(line) > SUMMARY_CHARS else "")


CONTEXT_WORDS = ("context length", "context size", "context window", "exceed_context")
"""Phrases with which llama.cpp, llama-cpp-python and vLLM say a request does not fit."""


def _check_status(config: LLMConfig, answer: _Answer, feature: bool) -> None:
    """Raise for any status but 200: _Retry, FeatureRejected (``feature``: the request carries
    a grammar feature) or a one-line InputError with the server's reason."""
    status = answer.status
    if status == 200:
        return
    reason = summary(answer.body, config.api_key)
    said = f"answered HTTP {status}" + (f": {reason}" if reason else "")
    if status in (400, 413) and any(word in reason.lower() for word in CONTEXT_WORDS):
        raise InputError(f"{where(config)} {said} (the prompt and --max-tokens {config.max_tokens} do not fit "
                         "the model's context: serve it with a larger one, e.g. llama.cpp's --n_ctx 4096, "
                         "or lower --max-tokens)")
    if status in (401, 403):
        raise InputError(f"{where(config)} rejected the API key (HTTP {status})" + (f": {reason}" if reason else ""))
    if feature and status not in RETRY_STATUS and (400 <= status < 500 or status in REJECTED_FEATURE_STATUS):
        raise FeatureRejected(status, reason)
    if status in RETRY_STATUS or status >= 500:
        raise _Retry("status", said, retry_after(answer.headers))
    raise InputError(f"{where(config)} {said} (model {config.model!r})")


def _post(config: LLMConfig, payload: dict[str, Any], timeout_s: float, feature: bool) -> bytes:
    """The body of a 200 answer to ``payload``, after up to ``config.max_retries`` retries."""
    body = json.dumps(payload).encode("utf-8")
    for retry in range(config.max_retries + 1):
        try:
            answer = _exchange(config, body, timeout_s)
            _check_status(config, answer, feature)
            return answer.body
        except _Retry as failure:
            last = failure
            if retry < config.max_retries:
                time.sleep(backoff(retry, failure.wait_s))
    tries = f"({config.max_retries} retries)"
    if last.kind == "timeout":
        raise InputError(f"{where(config)} did not answer within {timeout_s:g} s {tries}")
    if last.kind == "connection":
        raise InputError(f"cannot reach {where(config)} {tries}")
    raise InputError(f"{where(config)} {last} {tries}")


def parse_reply(body: bytes, where: str) -> Reply:
    """The :class:`Reply` in a chat-completion body; InputError (one line) for anything else."""
    try:
        document = json.loads(body.decode("utf-8"))
    except ValueError:
        what = "an HTML page" if body.lstrip()[:1] == b"<" else "text that is not JSON"
        raise InputError(f"{where} sent {what}, not a chat completion") from None
    choices = document.get("choices") if isinstance(document, dict) else None
    if not isinstance(choices, list) or not choices:
        raise InputError(f"{where} sent an answer with no choices")
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    if not isinstance(message, dict):
        raise InputError(f"{where} sent a choice without a message")
    content = message.get("content")
    calls = message.get("tool_calls")
    calls = [c for c in calls if isinstance(c, dict) and c.get("type") == "custom"] if isinstance(calls, list) else []
    tool_input = calls[0].get("custom", {}).get("input") if calls and isinstance(calls[0].get("custom"), dict) else None
    if not isinstance(content, (str, type(None))) or not isinstance(tool_input, (str, type(None))):
        raise InputError(f"{where} sent a message whose content is not text")
    for text in (content, tool_input):
        if text is not None and len(text) > MAX_ANSWER_CHARS:
            raise InputError(f"{where} sent an answer of {len(text)} characters, over the limit of "
                             f"{MAX_ANSWER_CHARS}; it is not used")
    usage = document.get("usage")
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    return Reply(text=content or "", tool_input=tool_input,
                 prompt_tokens=tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else None)


WAIT_REPORT_S = 10.0
"""Seconds between two calls of ``on_wait`` while an answer is awaited."""


def complete(config: LLMConfig, messages: list[dict[str, str]], fields: Mapping[str, Any] | None = None, *,
             first: bool = False, on_wait: Callable[[float], None] | None = None) -> Reply:
    """Ask once. ``fields``: the request fields of a grammar feature (a custom tool, a
    ``grammar``...); first: the session's first request, bounded by ``first_timeout_s``;
    on_wait: called with the seconds waited every :data:`WAIT_REPORT_S` while waiting.

    Raises InputError naming the endpoint (never the key) on timeouts, connection failures,
    HTTP errors left after the retries and answers that are not chat completions; a server
    that rejects the feature raises :class:`FeatureRejected` so the caller can ask without it.
    """
    payload: dict[str, Any] = {"model": config.model, "messages": messages, "max_tokens": config.max_tokens,
                               "max_completion_tokens": config.max_tokens, **(fields or {})}
    if config.temperature is not None:
        payload["temperature"] = config.temperature
    timeout_s = config.first_timeout_s if first else config.timeout_s
    done = threading.Event()
    if on_wait is not None:
        started = time.monotonic()
        threading.Thread(target=_heartbeat, args=(done, started, on_wait), daemon=True).start()
    try:
        return parse_reply(_post(config, payload, timeout_s, bool(fields)), where(config))
    finally:
        done.set()


def _heartbeat(done: threading.Event, started: float, on_wait: Callable[[float], None]) -> None:
    """Call ``on_wait`` every :data:`WAIT_REPORT_S` until ``done`` is set."""
    while not done.wait(WAIT_REPORT_S):
        on_wait(time.monotonic() - started)


def server_owner(config: LLMConfig) -> str | None:
    """The ``owned_by`` of the first model the server lists at ``/models`` (``llamacpp``,
    ``vllm``, ``sglang``...), or None when it lists none or cannot say within the timeout."""
    try:
        answer = _exchange(config, None, config.timeout_s, "/models")
        document = json.loads(answer.body.decode("utf-8")) if answer.status == 200 else None
    except (_Retry, InputError, ValueError):
        return None
    models = document.get("data") if isinstance(document, dict) else None
    first = models[0] if isinstance(models, list) and models and isinstance(models[0], dict) else {}
    owner = first.get("owned_by")
    return owner if isinstance(owner, str) else None
