"""The OpenAI-compatible chat client: one request, bounded in time, retries and tokens.

Built on the official ``openai`` package (the ``llm`` extra). Any server speaking the
chat-completions wire format works (OpenAI, vLLM, llama.cpp, Ollama...). The library never
reads environment variables: the CLI resolves flags and ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``
and passes them in. The API key is held only by the client object: it is never part of an
error message, a log line, a report or a file.
"""

from __future__ import annotations

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
REJECTED_TOOL_STATUS = (400, 404, 422)
"""HTTP statuses with which a server says it does not support custom tools."""


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to ask: the endpoint, the model and every bound on a request.

    timeout_s: seconds one HTTP request may take (connect and read).
    max_retries: retries of one request on connection errors, timeouts, 429 and 5xx, with the
        client's exponential backoff (0.5 s doubling, capped at 8 s).
    max_tokens: most tokens of one answer. ``api_key`` never appears in ``repr``.
    """

    base_url: str
    api_key: str = field(default=UNUSED_KEY, repr=False)
    model: str = DEFAULT_MODEL
    timeout_s: float = 60.0
    max_retries: int = 2
    max_tokens: int = 2048


@dataclass(frozen=True)
class Reply:
    """One answer: ``text`` (plain content) and ``tool_input`` (the custom tool's input, if called)."""

    text: str
    tool_input: str | None


def configure(base_url: str | None, api_key: str | None, model: str = DEFAULT_MODEL,
              timeout_s: float = 60.0, max_retries: int = 2, max_tokens: int = 2048) -> LLMConfig:
    """An :class:`LLMConfig`, or InputError when neither a base URL nor a key is given.

    A key alone means the OpenAI API; a base URL alone means a server that needs no key.
    """
    if not base_url and not api_key:
        raise InputError("no language model configured: pass --base-url URL (or set OPENAI_BASE_URL) "
                         "for a local server, or set OPENAI_API_KEY for the OpenAI API")
    if timeout_s <= 0 or max_retries < 0 or max_tokens < 1:
        raise InputError(f"bad limits for the language model: timeout {timeout_s} s, "
                         f"{max_retries} retries, {max_tokens} tokens")
    return LLMConfig(base_url=(base_url or OPENAI_URL).rstrip("/"), api_key=api_key or UNUSED_KEY,
                     model=model, timeout_s=timeout_s, max_retries=max_retries, max_tokens=max_tokens)


def make_client(config: LLMConfig) -> Any:
    """An ``openai.OpenAI`` client bound to ``config`` (timeouts and retries included)."""
    try:
        import openai
    except ImportError as exc:
        raise InputError("the natural-language front end needs the openai package: "
                         "pip install 'motionprog[llm]'") from exc
    return openai.OpenAI(base_url=config.base_url, api_key=config.api_key,
                         timeout=config.timeout_s, max_retries=config.max_retries)


def program_tool(grammar: str) -> dict[str, Any]:
    """The custom tool whose input must follow ``grammar`` (Lark syntax, OpenAI's dialect)."""
    return {"type": "custom", "custom": {
        "name": TOOL_NAME,
        "description": "Submit one complete motionprog program (.mprog source text).",
        "format": {"type": "grammar", "grammar": {"syntax": "lark", "definition": grammar}},
    }}


def complete(client: Any, config: LLMConfig, messages: list[dict[str, str]],
             grammar: str | None = None) -> Reply:
    """Ask once; with ``grammar``, force the custom tool so the answer follows it.

    Raises InputError naming the endpoint (never the key) on timeouts, connection failures and
    HTTP errors left after the retries; a server that rejects the tool raises
    :class:`ToolsUnsupported` so the caller can fall back to plain chat.
    """
    import openai

    extra: dict[str, Any] = {}
    if grammar is not None:
        extra = {"tools": [program_tool(grammar)],
                 "tool_choice": {"type": "custom", "custom": {"name": TOOL_NAME}}}
    where = f"the language model at {config.base_url}"
    try:
        response = client.chat.completions.create(
            model=config.model, messages=messages, max_completion_tokens=config.max_tokens, **extra)
    except openai.APITimeoutError:
        raise InputError(f"{where} did not answer within {config.timeout_s:g} s "
                         f"({config.max_retries} retries)") from None
    except openai.APIConnectionError:
        raise InputError(f"cannot reach {where}") from None
    except openai.AuthenticationError:
        raise InputError(f"{where} rejected the API key (HTTP 401)") from None
    except openai.APIStatusError as exc:
        if grammar is not None and exc.status_code in REJECTED_TOOL_STATUS:
            raise ToolsUnsupported(exc.status_code) from None
        raise InputError(f"{where} answered HTTP {exc.status_code} (model {config.model!r})") from None
    if not response.choices:
        raise InputError(f"{where} sent an answer with no choices")
    message = response.choices[0].message
    calls = [call for call in (message.tool_calls or []) if getattr(call, "type", "") == "custom"]
    return Reply(text=message.content or "", tool_input=calls[0].custom.input if calls else None)


class ToolsUnsupported(Exception):
    """The server rejected the custom tool (HTTP ``status``): ask again in plain chat."""

    def __init__(self, status: int):
        super().__init__(f"custom tools rejected with HTTP {status}")
        self.status = status
