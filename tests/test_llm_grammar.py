"""The grammars sent to servers for constrained decoding: the GBNF translation accepts every
program of the language (each example and standard-library file, read back through an
independent GBNF reader into a character-level Earley parser) and rejects what is not one;
llama.cpp's own GBNF parser accepts it when llama-cpp-python is installed. Then the client
against loopback servers that behave like llama.cpp's and vLLM's: each names itself, rejects
custom tools and over-long prompts its own way, and honours its grammar field."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lark import Lark
from lark.exceptions import LarkError
from test_llm import loopback

from motionprog.llm import client, configure, synthesize
from motionprog.llm.evaluate import Task, evaluate
from motionprog.llm.gbnf import gbnf_grammar
from motionprog.llm.reference import answer_grammar, grammar_text, tool_grammar
from motionprog.llm.task_grammar import task_grammar

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = sorted([*ROOT.glob("examples/*.mprog"), *ROOT.glob("constraints/*.mprog")])
GBNF_TOKEN = re.compile(r'\s*(?:(?P<string>"(?:\\.|[^"\\])*")|(?P<cls>\[(?:\\.|[^\]\\])*\])|(?P<name>[A-Za-z0-9-]+)'
                        r'|(?P<repeat>\{\d+,\d*\})|(?P<op>[()|*+?]))')


def lark_name(name: str) -> str:
    """A GBNF rule name as a Lark rule name (GBNF names are case-sensitive, Lark's are lowercase)."""
    return ("t_" if any(c.isupper() for c in name) else "r_") + name.lower().replace("-", "_")


def gbnf_as_lark(gbnf: str) -> str:
    """A GBNF grammar read token by token and written as a character-level Lark grammar: an
    independent check of the translation, since Lark then parses with these rules alone."""
    rules = []
    for line in gbnf.splitlines():
        name, body = line.split("::=", 1)
        out, position = [], 0
        while body[position:].strip():
            token = GBNF_TOKEN.match(body, position)
            assert token, f"unreadable GBNF at {body[position:]!r}"
            position = token.end()
            kind, text = token.lastgroup, token.group(token.lastgroup)
            if kind == "cls":
                text = "/" + text.replace("/", "\\/") + "/"
            elif kind == "name":
                text = lark_name(text)
            elif kind == "repeat":
                low, high = text[1:-1].split(",")
                text = f"~ {low}..{high or 99}"
            out.append(text)
        rules.append(f"{lark_name(name.strip())}: {' '.join(out)}")
    return "\n".join(rules) + "\n"


@pytest.fixture(scope="module")
def gbnf_parser() -> Lark:
    return Lark(gbnf_as_lark(gbnf_grammar()), start="r_root", parser="earley", lexer="dynamic")


def test_gbnf_is_well_formed_and_covers_every_rule_and_terminal():
    gbnf = gbnf_grammar()
    defined = [line.split("::=")[0].strip() for line in gbnf.splitlines()]
    assert len(defined) == len(set(defined)) and defined[0] == "root"
    bodies = " ".join(re.sub(r'"(\\.|[^"\\])*"|\[(\\.|[^\]\\])*\]', " ", line.split("::=")[1])
                      for line in gbnf.splitlines())
    used = set(re.findall(r"[A-Za-z][A-Za-z0-9-]*", bodies))
    assert used <= set(defined), used - set(defined)
    lark_rules = {m.group(1) for m in re.finditer(r"^[?!]?([a-z_]+)\s*:", grammar_text(), re.MULTILINE)}
    assert {r.replace("_", "-") for r in lark_rules} <= set(defined)
    assert {"NAME", "NUMBER", "STRING", "UNIT", "ws"} <= set(defined)
    assert "(?" not in gbnf and "->" not in gbnf   # look-arounds and aliases have no GBNF form
    # immediate left recursion would loop llama.cpp's top-down matcher
    for line in gbnf.splitlines():
        name, body = (part.strip() for part in line.split("::="))
        assert not re.match(rf"\(?{re.escape(name)}(?![A-Za-z0-9-])", body), line


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_gbnf_accepts_every_example_and_library_file(gbnf_parser, path):
    gbnf_parser.parse(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("text", [
    "import os\nfor t in range(3):\n    print(t)\n",
    'motion "walk" for 2 s\nalways: head.y = 1 m\n',
    'motion "walk" for 2 s\nalways head.y > 1 m\n',
    "```mprog\nalways: head.y > 1\n```",
])
def test_gbnf_rejects_what_is_not_a_program(gbnf_parser, text):
    with pytest.raises(LarkError):
        gbnf_parser.parse(text)


def test_the_grammar_a_model_answers_in_has_no_comments_and_all_the_rest():
    served = Lark(gbnf_as_lark(gbnf_grammar(answer_grammar())), start="r_root", parser="earley", lexer="dynamic")
    for path in PROGRAMS:
        served.parse(re.sub(r"#[^\n]*", "", path.read_text(encoding="utf-8")))
    with pytest.raises(LarkError):
        served.parse('motion "walk" for 2 s\n# Note: these are approximations\nalways: head.y > 1 m\n')


def test_llama_cpp_parses_the_gbnf():
    llama_cpp = pytest.importorskip("llama_cpp")
    grammar = llama_cpp.LlamaGrammar.from_string(gbnf_grammar(), verbose=False)
    assert grammar is not None


# ---- loopback servers that behave like llama.cpp's and vLLM's ------------------------------

TASK = "A person touches the top of the head with the left hand at 2 seconds."
CANDIDATES = [
    "Sure! Here is the program:\n```python\nimport motionprog\nprint('touch')\n```",
    'motion "a person touches the head" for 4 s\nat 2 s: touching(left_hand, head) = true\n',
    'motion "a person touches the head" for 4 s\nat 2 s: distance(left_hand, head) < 5 cm\n',
]
TOOL_REJECTION = ("[{'type': 'literal_error', 'loc': ('body', 'tools', 0, 'type'), "
                  "'msg': \"Input should be 'function'\", 'input': 'custom'}]")


class LikeServer(BaseHTTPRequestHandler):
    """A chat server like llama.cpp's (``server.owner = "llamacpp"``) or vLLM's (``"vllm"``): it
    names itself at /v1/models, rejects custom tools as they do, refuses a prompt over its
    context as they do, and honours its grammar field by answering the first of
    ``server.candidates`` that the grammar it was sent accepts (plain chat: the next one)."""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.answer(200, {"object": "list", "data": [{"id": "m", "object": "model", "owned_by": self.server.owner}]})

    def do_POST(self) -> None:
        server = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.requests.append(body)
        time.sleep(server.delays.pop(0) if server.delays else 0)
        tokens = sum(len(m["content"]) for m in body["messages"]) // 4
        llama = server.owner == "llamacpp"
        if body.get("tools"):
            return self.answer(500, {"error": {"code": 500, "message": TOOL_REJECTION, "type": "server_error"}}) if llama \
                else self.answer(400, {"object": "error", "message": "unknown tool type 'custom'", "code": 400})
        if llama and tokens > server.n_ctx:
            return self.answer(400, {"error": {"code": 400, "type": "exceed_context_size_error", "n_ctx": server.n_ctx,
                                               "message": "the request exceeds the available context size, try increasing it"}})
        if not llama and tokens + body["max_tokens"] > server.n_ctx:
            return self.answer(400, {"object": "error", "code": 400, "message": (
                f"This model's maximum context length is {server.n_ctx} tokens. However, you requested "
                f"{tokens + body['max_tokens']} tokens ({tokens} in the messages, {body['max_tokens']} in the completion).")})
        grammar = body.get("grammar") if llama else body.get("structured_outputs", {}).get("grammar")
        text = next(c for c in server.candidates if accepts(grammar, c, llama)) if grammar else server.candidates.pop(0)
        self.answer(200, {"id": "c", "object": "chat.completion", "usage": {"prompt_tokens": tokens},
                          "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]})

    def answer(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@cache
def grammar_parser(grammar: str, gbnf: bool) -> Lark:
    return Lark(gbnf_as_lark(grammar), start="r_root", lexer="dynamic") if gbnf else Lark(grammar, lexer="dynamic")


def accepts(grammar: str, text: str, gbnf: bool) -> bool:
    try:
        grammar_parser(grammar, gbnf).parse(text)
    except LarkError:
        return False
    return True


@pytest.fixture(params=["llamacpp", "vllm"])
def server(request, monkeypatch) -> Iterator[ThreadingHTTPServer]:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with loopback(LikeServer) as live:
        live.owner, live.n_ctx, live.requests, live.delays = request.param, 4096, [], []
        live.candidates = list(CANDIDATES)
        yield live


def endpoint(server, **limits):
    return configure(server.url, None, model="m", **({"timeout_s": 5.0, "first_timeout_s": 5.0, "max_retries": 0} | limits))


def test_auto_uses_the_servers_own_grammar_field_and_every_reply_is_in_the_language(server):
    synthesis = synthesize(TASK, endpoint(server), rounds=1)
    assert synthesis.source == CANDIDATES[2].strip() and synthesis.requests == 1
    (sent,) = server.requests
    assert "tools" not in sent and sent["max_tokens"] == sent["max_completion_tokens"] == 512
    if server.owner == "llamacpp":
        assert synthesis.attempts[0].mode == "gbnf" and sent["grammar"] == gbnf_grammar(task_grammar(TASK))
    else:
        assert synthesis.attempts[0].mode == "lark" and sent["structured_outputs"]["grammar"] == tool_grammar(task_grammar(TASK))


def test_plain_chat_needs_repairs_the_grammar_avoids(server):
    synthesis = synthesize(TASK, endpoint(server), rounds=3, grammar="none")
    first, second, third = synthesis.attempts
    assert (first.mode, third.valid, synthesis.requests) == ("none", True, 3) and first.diagnostics[0].code == "E101"
    assert second.diagnostics[0].message == "unexpected '='"   # the `=` a grammar never lets through
    repair = server.requests[2]["messages"][-1]["content"]
    assert "2 | at 2 s: touching(left_hand, head) = true" in repair and "'=='" in repair


def test_a_forced_custom_tool_fails_with_the_servers_reason_in_one_line(server, cli, tmp_path):
    status, output = cli("prompt", TASK, "-o", tmp_path / "t.mprog", "--base-url", server.url, "--grammar", "tool")
    reason = "Input should be 'function'" if server.owner == "llamacpp" else "unknown tool type 'custom'"
    code = 500 if server.owner == "llamacpp" else 400
    assert status == 2 and output == (f"error: the language model at {server.url} rejected grammar mode 'tool': "
                                      f"answered HTTP {code}: {reason} (try --grammar auto)\n")
    assert list(tmp_path.iterdir()) == []


def test_a_prompt_over_the_context_is_explained_in_one_line_without_trying_other_modes(server, cli, tmp_path):
    server.n_ctx = 512
    status, output = cli("prompt", TASK, "-o", tmp_path / "t.mprog", "--base-url", server.url)
    assert status == 2 and output.count("\n") == 1 and "answered HTTP 400: " in output
    assert "do not fit the model's context: serve it with a larger one, e.g. llama.cpp's --n_ctx 4096" in output
    assert len(server.requests) == 1


def test_the_first_request_waits_longer_and_shows_progress(server, cli, tmp_path, monkeypatch):
    monkeypatch.setattr(client, "WAIT_REPORT_S", 0.2)
    server.delays = [1.5]
    out = tmp_path / "t.mprog"
    status, output = cli("prompt", TASK, "-o", out, "--base-url", server.url, "--timeout", "1", "--first-timeout", "5",
                         "--retries", "0")
    assert status == 0, output
    assert "waiting for the language model: 1 s" in output
    assert f"grammar mode: {'gbnf' if server.owner == 'llamacpp' else 'lark'}" in output
    assert out.read_text() == CANDIDATES[2]


def test_evaluation_reports_the_prompt_tokens_the_server_counted(server):
    summary = evaluate([Task("touch", TASK)], endpoint(server), rounds=1)
    tokens = sum(len(m["content"]) for m in server.requests[0]["messages"]) // 4
    assert summary["valid"] == 1 and summary["prompt_tokens"] == tokens and 1000 < tokens < 3000
