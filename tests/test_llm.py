"""The natural-language front end against a real HTTP server on 127.0.0.1 speaking the
chat-completions wire format: repair rounds, rejected Python, retries, timeouts, no
configuration, grammar-tool fallback, and the key never leaving the request header."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lark import Lark
from lark.exceptions import LarkError

from motionprog.errors import InputError
from motionprog.motion import load_npz
from motionprog.lang import check_source
from motionprog.lang import catalogue
from motionprog.llm import NoValidProgram, configure, from_text, synthesize
from motionprog.llm.client import Reply
from motionprog.llm.evaluate import Task, evaluate, load_tasks
from motionprog.llm.gbnf import gbnf_grammar
from motionprog.llm.prompt import answer, build_messages, checked_examples, description, similar_examples
from motionprog.llm.reference import grammar_text, language_reference, tool_grammar
from motionprog.llm.task_grammar import fits, split_scene, task_grammar
from motionprog.llm.repair import add_missing_imports, extract_candidate, judge, number_labels

KEY = "sk-test-9f8e7d6c5b4a-SECRET"
ROOT = Path(__file__).resolve().parents[1]
VALID = 'motion "a person walks forward" for 2 s, seeds 2\nalways: feet.y >= 0\nat end: pelvis.z > 1 m\n'
TYPO = 'motion "a person walks forward" for 2 s\nalways: lefthand.y >= 0\n'
PYTHON = "import os\nfor t in range(120):\n    os.system('touch {marker}')\n"


class FakeLLM(BaseHTTPRequestHandler):
    """Answers POST /v1/chat/completions from the server's ``script``, recording each request."""

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        server = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        kind, value = server.script.pop(0) if server.script else ("status", 418)
        if kind == "hang":
            server.release.wait(value)
            return
        if kind == "status":
            payload, status = {"error": {"message": "scripted failure", "type": "server_error"}}, value
        else:
            message = {"role": "assistant", "content": value}
            if kind == "tool":
                message = {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "custom", "custom": {"name": "motionprog_program", "input": value}}]}
            payload, status = {"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
                               "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}, 200
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("retry-after-ms", "5")
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def loopback(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    """A live HTTP server for ``handler`` on 127.0.0.1 (a free port); ``server.url`` is its /v1 base."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def llm(monkeypatch) -> Iterator[ThreadingHTTPServer]:
    """A live server on 127.0.0.1 (a free port); set ``server.script`` to [(kind, value), ...]:
    ("content", text), ("tool", text), ("status", code) or ("hang", seconds)."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with loopback(FakeLLM) as server:
        server.script, server.requests, server.release = [], [], threading.Event()
        yield server
        server.release.set()


def config(server, **limits):
    return configure(server.url, KEY, model="test-model",
                     **({"timeout_s": 5.0, "first_timeout_s": 5.0, "max_retries": 2} | limits))


def fenced(source: str) -> str:
    return f"Here is the program:\n```mprog\n{source}```\nIt keeps the feet above the floor."


def test_every_rejected_mode_falls_back_then_repairs_with_the_offending_line(llm):
    llm.script = [("status", 400), ("status", 500), ("status", 422), ("content", fenced(TYPO)), ("content", fenced(VALID))]
    synthesis = synthesize("walk forward", config(llm), rounds=3, examples=[])
    assert synthesis.source == VALID.strip() and synthesis.requests == 5
    assert [(a.valid, a.mode) for a in synthesis.attempts] == [(False, "none"), (True, "none")]
    tool, gbnf, lark, plain, repair = (r["body"] for r in llm.requests)
    assert tool["tools"][0]["custom"]["format"]["grammar"]["syntax"] == "lark"   # custom tool first
    assert gbnf["grammar"].startswith("root ::= ") and gbnf["ebnf"] == gbnf["grammar"]
    assert lark["structured_outputs"]["grammar"] == lark["guided_grammar"] == tool_grammar(task_grammar("walk forward"))
    assert not {"tools", "grammar", "structured_outputs"} & (set(plain) | set(repair))
    last = repair["messages"][-1]["content"]
    assert "unknown joint 'lefthand'" in last and "did you mean 'left_hand'?" in last
    assert "2 | always: lefthand.y >= 0" in last                                    # the offending line
    assert repair["messages"][-2] == {"role": "assistant", "content": TYPO.strip()}
    assert tool["max_completion_tokens"] == tool["max_tokens"] == 512
    assert llm.requests[0]["path"] == "/v1/chat/completions"


def test_a_program_missing_what_the_task_names_gets_lines_added_not_rewritten(llm):
    task = "A person walks forward keeping the centre of mass between the feet"
    first = 'motion "a person walks forward" for 4 s\nwalk: at end: feet.z > 2 m\n'
    llm.script = [("content", first), ("content", "balanced: always: com_between_feet(10 cm)\n")]
    synthesis = synthesize(task, config(llm), rounds=3, examples=[], grammar="gbnf")
    assert [a.valid for a in synthesis.attempts] == [False, True]
    assert [d.code for d in synthesis.attempts[0].diagnostics] == ["R002"]
    assert synthesis.source == 'import "balance"\n' + first + "balanced: always: com_between_feet(10 cm)"
    whole, lines = (r["body"] for r in llm.requests)
    assert whole["grammar"] == gbnf_grammar(task_grammar(task)) and lines["grammar"] == gbnf_grammar(
        task_grammar(task, added_lines=3))
    assert "constraint lines to add" in lines["messages"][-1]["content"] and "`com`" in lines["messages"][-1]["content"]
    assert lines["messages"][-2] == {"role": "assistant", "content": first.strip()}
    added = Lark(task_grammar(task, added_lines=3), parser="earley")
    added.parse("at end: com.y > 80 cm\nalways: head.y > 1 m\n")
    for not_lines in (first, "maximize head.y\n", "always: head.y > 1 m\n" * 4):
        with pytest.raises(LarkError):
            added.parse(not_lines)


def test_a_repeated_rejected_answer_stops_the_rounds(llm):
    llm.script = [("content", fenced(TYPO))] * 5
    with pytest.raises(NoValidProgram, match="repeated a rejected answer after 2 rounds") as caught:
        synthesize("walk forward", config(llm), rounds=5, examples=[], grammar="none")
    assert caught.value.repeated and len(llm.requests) == 2


@pytest.mark.parametrize(("task", "scene", "source", "codes"), [
    ("walk forward", None, 'motion "walk" for 2 s\n', ["R001"]),
    ("walk forward", None, 'motion "walk" for 2 s\nmaximize pelvis.z @ end\n', ["R001"]),
    ("touch the head with the left hand at 2 seconds", None,
     'motion "x" for 4 s\nat 2 s: distance(right_hand, neck) < 5 cm\n', ["R002"]),
    ("the head is low at frame 0", None, 'motion "x" for 4 s\nat start: head.y < 1 m\n', []),
    ("touch the head with the left hand at 2 seconds", None,
     'motion "x" for 4 s\nat 3 s: distance(left_hand, head) < 5 cm\n', ["R004"]),
    ("the head is low at frames 20 and 60", None, 'motion "x" for 4 s\nat 1 s, frame 60: head.y < 1 m\n', []),
    ("balance with the centre of mass over the feet", None, 'motion "x" for 4 s\nalways: feet.y < 5 cm\n',
     ["R002"]),
    ("duck under the bar", "scene {\n  bar = box(center = (0, 1.4, 2), size = (3, 0.1, 0.2))\n}",
     'motion "x" for 4 s\nscene {\n  bar = box(center = (0, 1.4, 2), size = (3, 0.1, 0.2))\n}\nalways: head.y > 0\n',
     ["R003"]),
    ("walk to the goal", "scene {\n  goal = point(0, 0, 4)\n  floor_lamp = sphere((1, 1, 1), 0.2)\n}",
     'motion "x" for 4 s\nscene {\n  goal = point(0, 0, 4)\n}\nat end: distance(pelvis.xz, goal.xz) < 30 cm\n', []),
    ("carry a ball with both hands", None, 'import "carry"\nmotion "x" for 4 s\nalways: holds_ball(40 cm)\n', []),
])
def test_programs_that_check_but_ignore_the_task_are_rejected(task, scene, source, codes):
    assert [d.code for d in judge(task, scene, source, "t.mprog") if d.level == "error"] == codes


def test_the_task_says_what_its_constraints_should_mention_and_repairs_name_the_way():
    task = "A person squats: the head is at 1.6 m at frame 0 and 1.0 m at frame 40, the centre of mass over the feet."
    system, *_, asked = build_messages(task, examples=[("one.mprog", "# Walk forward.\n" + VALID)])
    assert "should mention `head`, `feet`, `com` (the centre of mass), the times 0 s (frame 0), 2 s (frame 40)." \
        in asked["content"]
    assert "should mention" not in build_messages(task)[1]["content"]   # an example's program may not follow it
    (com,) = [d for d in judge(task, None, 'motion "x" for 4 s\nat frame 0, frame 40: head.y > 1 m\n', "t.mprog")
              if d.code == "R002"]
    assert "`com_over(p, r)` (import \"balance\")" in com.help and "`carries_balanced(d)`" in com.help


def test_the_given_scene_is_added_after_the_header_and_the_temperature_sent_only_when_set(llm):
    scene = "scene {\n  bar = box(center = (0, 1.4, 2), size = (3, 0.1, 0.2))\n}"
    llm.script = [("content", fenced('import "interaction"\nmotion "duck" for 4 s\nalways: passes_under(head, bar, 10 cm)\n'))]
    synthesis = synthesize("duck under the bar", config(llm), scene=scene, examples=[], grammar="none")
    assert synthesis.source.splitlines()[2:5] == scene.splitlines() and synthesis.attempts[0].valid
    llm.script = [("content", fenced(VALID))] * 2
    synthesize("walk forward", config(llm, temperature=0.0), examples=[], grammar="none")
    synthesize("walk forward", config(llm), examples=[], grammar="none")
    assert llm.requests[-2]["body"]["temperature"] == 0.0 and "temperature" not in llm.requests[-1]["body"]
    with pytest.raises(InputError, match="temperature must be between 0 and 2"):
        config(llm, temperature=3.0)


def test_grammar_tool_call_is_the_candidate(llm):
    llm.script = [("tool", VALID)]
    source, program = from_text("walk forward", base_url=llm.url, model="m", rounds=1)
    assert source == VALID.strip()
    assert program.frames == 40 and program.seeds == 2 and len(program.constraints) == 2
    assert llm.requests[0]["body"]["tool_choice"] == {"type": "custom", "custom": {"name": "motionprog_program"}}


def test_python_is_rejected_and_never_run(llm, tmp_path):
    marker = tmp_path / "ran"
    code = PYTHON.format(marker=marker)
    llm.script = [("content", f"```python\n{code}```"), ("content", code)]
    with pytest.raises(NoValidProgram, match="no valid program: it repeated a rejected answer after 2") as caught:
        synthesize("walk", config(llm), rounds=2, examples=[], grammar="none")
    assert [a.valid for a in caught.value.attempts] == [False, False]
    assert caught.value.attempts[0].diagnostics[0].code == "E101"
    assert "Python is not accepted" in llm.requests[1]["body"]["messages"][-1]["content"]
    assert not marker.exists()


def test_500_is_retried_then_succeeds(llm):
    llm.script = [("status", 500), ("status", 503), ("content", fenced(VALID))]
    synthesis = synthesize("walk", config(llm, max_retries=2), rounds=1, examples=[], grammar="none")
    assert synthesis.source == VALID.strip() and len(llm.requests) == 3


def test_retries_are_bounded(llm):
    llm.script = [("status", 500)] * 5
    with pytest.raises(InputError, match="answered HTTP 500"):
        synthesize("walk", config(llm, max_retries=1), rounds=3, examples=[], grammar="none")
    assert len(llm.requests) == 2


def test_a_hanging_server_times_out_within_the_configured_seconds(llm):
    llm.script = [("hang", 30)]   # the server would close the connection after 30 s, a different error
    with pytest.raises(InputError, match=r"did not answer within 0.5 s"):
        synthesize("walk", config(llm, first_timeout_s=0.5, max_retries=0), rounds=1, examples=[])


def test_no_configuration_is_a_clear_error(llm, cli, tmp_path):
    with pytest.raises(InputError, match="no language model configured"):
        from_text("walk")
    status, output = cli("prompt", "walk", "-o", tmp_path / "x.mprog")
    assert status == 2 and output.startswith("error: no language model configured: pass --base-url URL")
    assert not llm.requests and not list(tmp_path.iterdir())


def test_cli_writes_the_program_and_never_shows_the_key(llm, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("MY_LLM_KEY", KEY)
    out = tmp_path / "walk.mprog"
    llm.script = [("status", 500), ("content", fenced(TYPO)), ("content", fenced(VALID))]
    status, output = cli("prompt", "walk forward", "-o", out, "--base-url", llm.url,
                         "--api-key-env", "MY_LLM_KEY", "--rounds", "2", "--retries", "0")
    assert status == 0, output
    assert out.read_text() == VALID.strip() + "\n"
    assert "round (gbnf grammar): 1 error(s), asking for a repair" in output
    assert "round (gbnf grammar): valid program" in output and "pelvis.z is above 1 m" in output
    assert "40 frames (2 s), 2 seed(s)" in output
    assert "grammar mode tool rejected by the server (answered HTTP 500: scripted failure)" in output
    assert "grammar mode: gbnf" in output
    assert {r["auth"] for r in llm.requests} == {f"Bearer {KEY}"}
    llm.script = [("status", 401)]
    failed, message = cli("prompt", "walk", "-o", tmp_path / "no.mprog", "--base-url", llm.url,
                          "--api-key-env", "MY_LLM_KEY")
    assert failed == 2 and "rejected the API key (HTTP 401)" in message
    llm.script = [("content", "import os"), ("content", "import sys")]
    failed, invalid = cli("prompt", "walk", "-o", tmp_path / "bad.mprog", "--base-url", llm.url,
                          "--api-key-env", "MY_LLM_KEY", "--rounds", "2", "--grammar", "none")
    assert failed == 2 and "error: the language model gave no valid program in 2 rounds" in invalid
    written = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.mprog"]
    assert KEY not in output + message + invalid + written and KEY not in repr(config(llm))


def test_evaluation_counts_valid_programs_requests_and_the_mode(llm):
    tasks = [Task("a", "walk forward"), Task("b", "walk forward"), Task("c", "walk forward")]
    llm.script = [("status", 400), ("content", fenced(VALID)), ("content", "no idea"), ("content", "still none"),
                  ("content", fenced(VALID))]
    summary = evaluate(tasks, config(llm, max_retries=0), rounds=2)
    assert [(r["valid"], r["requests"], r["mode"]) for r in summary["results"]] == [
        (True, 2, "gbnf"), (False, 2, "gbnf"), (True, 1, "gbnf")]
    assert summary["valid"] == 2 and summary["satisfied"] is None and summary["tasks"] == 3
    assert summary["requests"] == 5 and summary["modes"] == ["gbnf"]
    assert summary["rejected"] == ["tool: answered HTTP 400: scripted failure"]
    assert summary["median_seconds_after_first"] >= 0 and all(r["seconds"] >= 0 for r in summary["results"])
    assert KEY not in json.dumps(summary)


def test_evalset_has_twenty_tasks_with_valid_scenes():
    tasks = load_tasks()
    assert len(tasks) == 20 and len({t.id for t in tasks}) == 20
    for task in (t for t in tasks if t.scene):
        assert check_source(f'motion "x" for 4 s\n{task.scene}\nalways: feet.y >= 0\n', "t.mprog") == []


def test_candidate_extraction():
    assert extract_candidate(Reply("x", tool_input="  always: feet.y >= 0 \n")) == "always: feet.y >= 0"
    text = "<think>```mprog\nwrong\n```</think>\n```text\nnote\n```\n```mprog\nalways: feet.y >= 0\n```"
    assert extract_candidate(Reply(text, None)) == "always: feet.y >= 0"
    assert extract_candidate(Reply("```\nat end: head.y > 1\n```", None)) == "at end: head.y > 1"
    assert extract_candidate(Reply(" always: head.y > 1 ", None)) == "always: head.y > 1"


def test_compact_reference_lists_the_catalogue_without_the_grammar():
    reference, table = language_reference(), catalogue()
    assert grammar_text().strip() not in reference and len(reference) < 8_500
    names = [*table["joints"], *table["aliases"], *table["groups"], *(f["name"] for f in table["functions"]),
             *(o["signature"] for o in table["objects"]), *(a["name"] for a in table["atoms"]),
             *(d["signature"] for defs in table["library"].values() for d in defs)]
    assert all(re.search(rf"\b{re.escape(name)}", reference) for name in names)
    assert "`distance(a, b)` (m)" in reference and " m/s^2 " in reference and "never `=`" in reference


def test_the_prompt_fits_a_small_context_and_shows_similar_examples_as_earlier_answers():
    for task in load_tasks():
        assert sum(len(m["content"]) for m in build_messages(task.text, task.scene)) < 10_500, task.id  # docs/llm.md
    system, *turns, task = build_messages("A person walks forward and ducks under a bar")
    assert [m["role"] for m in turns] == ["user", "assistant"] * 2 and "ducks under a bar" in task["content"]
    duck = (ROOT / "examples/duck_under_bar.mprog").read_text()
    assert turns[1]["content"] == answer(duck) and "#" not in turns[1]["content"] and "scene" not in turns[1]["content"]
    assert split_scene(duck)[1] in turns[0]["content"] and description(duck).split(":")[0] in turns[0]["content"]
    assert system == build_messages("sit on a chair")[0]   # one cached prefix for every task
    scene = "scene {\n  seat = box(center = (0, 0.45, 1), size = (0.5, 0.05, 0.5))\n}"
    messages = build_messages("sit down", scene=scene, examples=[("one.mprog", VALID.strip())])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert scene in messages[-1]["content"] and "(seat)" in messages[-1]["content"]


def test_examples_in_the_prompt_check_fit_the_answer_grammar_and_are_chosen_by_similarity(tmp_path):
    (tmp_path / "a.mprog").write_text(VALID)
    (tmp_path / "b.mprog").write_text(TYPO)
    (tmp_path / "c.mprog").write_text('motion "a person jumps high" for 2 s\nalways: feet.y >= 0\n')
    (tmp_path / "d.mprog").write_text('motion "a person jumps" for 2 s\nlet top = 1 m\nalways: head.y < top\n')
    assert [name for name, _ in checked_examples(tmp_path)] == ["a.mprog", "c.mprog"]   # no let in an answer
    assert checked_examples(tmp_path / "missing") == ()
    chosen = similar_examples("someone jumps as high as possible", checked_examples(tmp_path), limit=1)
    assert [name for name, _ in chosen] == ["c.mprog"]


def test_examples_are_chosen_by_what_they_are_about_not_by_their_scenes_syntax(tmp_path):
    (tmp_path / "jump_box.mprog").write_text(
        '# Jump onto a box.\nmotion "a person jumps" for 2 s\nscene {\n  crate = box(center = (0, 0.2, 1), size = (1, 0.4, 1))\n}\n'
        "up: at end: feet.y > crate.top\n")
    (tmp_path / "sit.mprog").write_text('# Sit down on a chair.\nmotion "a person sitting" for 2 s\nat end: pelvis.y < 60 cm\n')
    scene = "scene {\n  chair = box(center = (0, 0.45, 1), size = (0.5, 0.05, 0.5))\n}"
    chosen = similar_examples("A person walks to the chair and sits", checked_examples(tmp_path), scene, limit=1)
    assert [name for name, _ in chosen] == ["sit.mprog"]   # "sits" meets "sit"; box, center, size do not count


def test_tool_grammar_has_no_priorities_or_lookarounds_and_accepts_the_language():
    grammar = tool_grammar()
    assert ".2:" not in grammar and "(?!" not in grammar and "->" not in grammar and "//" not in grammar
    parser = Lark(grammar, parser="earley", lexer="dynamic")
    sources = [VALID, TYPO, *(p.read_text() for p in sorted(Path(__file__).parents[1].glob("examples/*.mprog")))]
    for source in sources:
        parser.parse(source)
    with pytest.raises(Exception):
        parser.parse(PYTHON.format(marker="x"))


def test_cli_run_optimises_the_written_program(llm, cli, tmp_path, tiny_weights):
    llm.script = [("content", fenced('motion "a person stands" for 1 s, seeds 1\nalways: head.y > -10 m\n'))]
    out = tmp_path / "stand.mprog"
    status, output = cli("prompt", "stand", "-o", out, "--base-url", llm.url, "--run", "--motion-model", tiny_weights)
    assert status == 0, output
    assert "satisfied" in output and load_npz(tmp_path / "stand.npz").joints.shape[-3:] == (20, 22, 3)


def test_cli_prompt_eval_writes_results(llm, cli, tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"id": "walk", "text": "walk forward"}\n{"id": "wave", "text": "wave with the left hand"}\n')
    llm.script = [("tool", VALID), ("tool", "always: lefthand.y > 0"), ("tool", "always: lefthand.y > 0")]
    out = tmp_path / "results.json"
    status, output = cli("prompt-eval", "-o", out, "--tasks", tasks, "--no-solve", "--rounds", "3",
                         "--base-url", llm.url, "--model", "m")
    assert status == 0, output
    results = json.loads(out.read_text())
    assert (results["tasks"], results["valid"], results["satisfied"], results["requests"]) == (2, 1, None, 3)
    assert results["results"][1]["errors"] == ["unknown joint 'lefthand'"] and results["results"][1]["repeated"]
    assert "1/2 valid programs" in output and "grammar mode: tool" in output
    assert "[2/2] wave: invalid (2 requests" in output


def test_a_forgotten_library_import_is_added_before_checking(llm):
    forgot = 'motion "a person touches the head" for 4 s\nat 2 s: reaches(left_hand, head, 5 cm)\n'
    assert add_missing_imports(forgot) == 'import "interaction"\n' + forgot
    own = 'import "interaction"\ndef grounded() = feet.y < 1 cm\nalways: grounded() and avoids(body, (0, 0, 1))\n'
    assert add_missing_imports(own) == own   # imported already; a def of the program's own is not a library call
    llm.script = [("content", fenced(forgot))]
    synthesis = synthesize("touch the head with the left hand at 2 seconds", config(llm), rounds=1, examples=[],
                           grammar="none")
    assert synthesis.source.startswith('import "interaction"\n') and synthesis.attempts[0].valid


def test_a_repeated_label_is_numbered_and_the_program_then_checks():
    twice = ('motion "dance" for 6 s\nfeet_in: at start: feet.x <= 0.5 m\nfeet_in: always: feet.x >= -0.5 m\n'
             "at end: head.y > 1 m\nfeet_in: always: feet.z >= -0.5 m\n")
    assert [d.code for d in judge("dance", None, twice, "t.mprog") if d.level == "error"] == ["E207", "E207"]
    numbered = number_labels(twice)
    assert numbered.splitlines()[2:] == ["feet_in_2: always: feet.x >= -0.5 m", "at end: head.y > 1 m",
                                         "feet_in_3: always: feet.z >= -0.5 m"]
    assert not [d for d in judge("dance", None, numbered, "t.mprog") if d.level == "error"]


def test_a_reserved_word_as_a_label_is_numbered_and_the_program_then_checks():
    keyword = 'import "contact"\nmotion "balance" for 6 s\nabove: always: grounded()\nalways: head.y > 1 m\n'
    assert not fits(keyword, [])   # the Lark answer grammar refuses it; the GBNF, without look-aheads, cannot
    assert [d.message for d in judge("balance", None, keyword, "t.mprog")] == ["unexpected 'above'"]
    numbered = number_labels(keyword)
    assert numbered.splitlines()[2:] == ["above_1: always: grounded()", "always: head.y > 1 m"]
    assert fits(numbered, []) and not [d for d in judge("balance", None, numbered, "t.mprog") if d.level == "error"]
