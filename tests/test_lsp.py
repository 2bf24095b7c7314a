"""`motionprog lsp` driven as an editor drives it: JSON-RPC over the stdio pipes of a real
server process (initialize, didOpen, didChange, completion, hover, definition, formatting,
documentSymbol, shutdown)."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from motionprog.lang.imports import locate_import

WAIT = 60.0
"""Seconds to wait for one reply (the first check parses the grammar)."""


class Client:
    """The editor's side of the pipe: numbered requests, and every notification kept in order."""

    def __init__(self, root: Path, command: tuple[str, ...] = ("-m", "motionprog", "lsp"), stderr=subprocess.DEVNULL):
        self.process = subprocess.Popen([sys.executable, *command], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=stderr, cwd=root)
        self.inbox: queue.Queue = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            header = stream.readline()
            if not header:
                return
            length = int(header.split(b":")[1]) if header.lower().startswith(b"content-length") else None
            while header.strip():
                header = stream.readline()
                if header.lower().startswith(b"content-length"):
                    length = int(header.split(b":")[1])
            self.inbox.put(json.loads(stream.read(length)))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()

    def request(self, method: str, params: dict | None = None) -> object:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.inbox.get(timeout=WAIT)
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message["result"]

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def diagnostics(self, uri: str) -> list[dict]:
        while True:
            message = self.inbox.get(timeout=WAIT)
            if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                return message["params"]["diagnostics"]


def start(editor: Client, root: Path) -> Client:
    editor.request("initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {}})
    editor.notify("initialized", {})
    return editor


def stop(editor: Client) -> None:
    editor.request("shutdown")
    editor.notify("exit", {})
    assert editor.process.wait(timeout=WAIT) == 0


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """One server for the module's tests, as an editor keeps one for every document it opens:
    each test opens its own files (under its own tmp_path); the shutdown at the end exits 0."""
    root = tmp_path_factory.mktemp("workspace")
    editor = start(Client(root), root)
    yield editor
    stop(editor)


def open_document(client: Client, path: Path, text: str) -> list[dict]:
    path.write_text(text)
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": path.as_uri(), "languageId": "mprog", "version": 1, "text": text}})
    return client.diagnostics(path.as_uri())


def at(path: Path, line: int, character: int) -> dict:
    return {"textDocument": {"uri": path.as_uri()}, "position": {"line": line, "character": character}}


PROGRAM = '''import "interaction"
motion "a person sits down" for 4 s
scene {
  chair = box((0, 0.45, 1), (0.5, 0.1, 0.5))
}
let lift = 20 cm
sit: at end: sits_on(chair)
hands_up: eventually: head.y < left_hand.y + lift
'''


def test_errors_are_published_as_the_editor_types_with_codes_and_ranges(client, tmp_path):
    path = tmp_path / "walk.mprog"
    found = open_document(client, path, 'motion "walk" for 2 s\nat end: lefthand.y > 1 m\n')
    assert len(found) == 1
    assert found[0]["code"] == "E201" and found[0]["severity"] == 1 and found[0]["source"] == "motionprog"
    assert found[0]["range"] == {"start": {"line": 1, "character": 8}, "end": {"line": 1, "character": 16}}
    assert "left_hand" in found[0]["message"]
    client.notify("textDocument/didChange", {"textDocument": {"uri": path.as_uri(), "version": 2},
                                             "contentChanges": [{"text": 'motion "walk" for 2 s\nat end: left_hand.y > 1 m\n'}]})
    assert client.diagnostics(path.as_uri()) == []



def test_a_program_reading_the_input_motion_is_checked_as_an_edit(client, tmp_path):
    path = tmp_path / "duck.mprog"
    edit = 'keep outside 2 s .. 4 s\nsame: always: pelvis.xz == input.pelvis.xz within 5 cm\n'
    assert open_document(client, path, edit) == []
    client.notify("textDocument/didChange", {"textDocument": {"uri": path.as_uri(), "version": 2},
                                             "contentChanges": [{"text": edit.replace("input.pelvis", "input.pelvs")}]})
    (found,) = client.diagnostics(path.as_uri())
    assert found["code"] == "E201" and "pelvis" in found["message"]


def test_an_error_inside_an_imported_function_is_shown_on_the_call_with_the_function_line_related(client, tmp_path):
    helpers = tmp_path / "helpers.mprog"
    helpers.write_text("def up(j) = j.why > 1 m\n")
    found = open_document(client, tmp_path / "main.mprog", 'import "helpers"\nmotion "walk" for 2 s\nat end: up(head)\n')
    assert [(d["code"], d["range"]["start"]["line"]) for d in found] == [("E203", 2)]
    assert found[0]["range"]["start"]["character"] == 8 and f"note: {helpers}:1:13: inside up(j)" in found[0]["message"]
    related = found[0]["relatedInformation"][0]["location"]
    assert related["uri"] == helpers.as_uri()
    assert related["range"] == {"start": {"line": 0, "character": 12}, "end": {"line": 0, "character": 17}}


def test_a_syntax_error_in_an_imported_file_is_shown_on_the_import_with_its_place_there(client, tmp_path):
    helpers = tmp_path / "helpers.mprog"
    helpers.write_text("def up(j) = j.y >\n")
    found = open_document(client, tmp_path / "main.mprog", 'import "helpers"\nmotion "walk" for 2 s\nat end: head.y > 1\n')
    assert [(d["code"], d["range"]["start"]["line"]) for d in found] == [("E101", 0)]
    assert found[0]["message"].startswith(f"{helpers}:1:")
    assert found[0]["relatedInformation"][0]["location"]["uri"] == helpers.as_uri()


def test_a_syntax_error_points_at_the_unexpected_token(client, tmp_path):
    found = open_document(client, tmp_path / "broken.mprog", 'motion "walk" for 2 s\nat end: pelvis.y > \n')
    assert [d["severity"] for d in found] == [1]
    assert found[0]["range"]["start"]["line"] in (1, 2) and found[0]["code"].startswith("E1")


def test_completion_offers_joints_library_defs_scene_objects_and_properties(client, tmp_path):
    path = tmp_path / "sit.mprog"
    assert open_document(client, path, PROGRAM) == []
    items = {item["label"]: item for item in client.request("textDocument/completion", at(path, 7, 22))}
    assert items["left_hand"]["kind"] == 20 and items["chair"]["kind"] == 6 and items["lift"]["kind"] == 6
    assert items["sits_on"]["detail"].startswith("def sits_on(seat)")
    assert items["distance"]["detail"] == "distance(a, b)  [m]" and items["not"]["kind"] == 14
    assert "eventually" not in items and "box" not in items  # not where a value starts
    members = [item["label"] for item in client.request("textDocument/completion", at(path, 7, 27))]
    assert members[:3] == ["x", "y", "z"]
    client.notify("textDocument/didChange", {"textDocument": {"uri": path.as_uri(), "version": 2},
                                             "contentChanges": [{"text": PROGRAM + "x: always: chair.\n"}]})
    client.diagnostics(path.as_uri())
    members = [item["label"] for item in client.request("textDocument/completion", at(path, 8, 17))]
    assert {"top", "bottom", "size", "center"} <= set(members) and "radius" not in members


def labels(client: Client, path: Path, line: int, character: int) -> list[str]:
    return [item["label"] for item in client.request("textDocument/completion", at(path, line, character))]


def test_completion_offers_only_the_keywords_the_grammar_accepts_at_the_cursor(client, tmp_path):
    path = tmp_path / "sit.mprog"
    typing = PROGRAM + "always \nscene {\n  goal = \n"
    assert [d["severity"] for d in open_document(client, path, typing)] == [1]  # a syntax error
    assert labels(client, path, 8, 7) == ["after", "before", "during", "every"]  # after a time selector
    assert labels(client, path, 10, 9) == ["point", "line", "plane", "box", "sphere", "cylinder", "mesh"]
    assert labels(client, path, 3, 14)[-3:] == ["center", "size", "rotation"]  # 'box(|(0,': values, parameters
    statements = ["after", "always", "at", "before", "def", "during", "eventually", "every", "hard", "import", "keep",
                  "let", "maximize", "minimize", "motion", "relax", "scene", "soft"]
    assert labels(client, path, 5, 0) == statements  # a line starting a statement: no names, a label is new
    assert labels(client, path, 6, 9) == ["end", "frame", "start"]  # 'sit: at |end'


SERVE_AND_LIST_HEAVY = """
import atexit, sys
atexit.register(lambda: print("HEAVY", sorted(m for m in ("torch", "trimesh") if m in sys.modules), file=sys.stderr))
from motionprog.lsp.server import serve
serve()
"""


def test_documents_with_scenes_and_a_mesh_are_served_without_torch_or_trimesh(tmp_path):
    examples = Path(__file__).resolve().parent.parent / "examples"
    shutil.copytree(examples / "assets", tmp_path / "assets")
    editor = start(Client(tmp_path, ("-c", SERVE_AND_LIST_HEAVY), stderr=subprocess.PIPE), tmp_path)
    for name, line in (("duck_under_bar.mprog", 12), ("sit_on_chair.mprog", 10), ("carry_between_tables.mprog", 17)):
        path = tmp_path / name
        assert open_document(editor, path, (examples / name).read_text()) == [], name
        assert editor.request("textDocument/hover", at(path, line, 1))["contents"]["value"]  # the constraint in words
    seated = editor.request("textDocument/hover", at(tmp_path / "sit_on_chair.mprog", 10, 1))["contents"]["value"]
    assert seated.startswith("sits_on(chair) (both distance(pelvis, chair)") and "from 5.00 s to 5.95 s" in seated
    stop(editor)
    assert editor.process.stderr.read().decode().strip().splitlines()[-1] == "HEAVY []"


def test_hover_gives_docs_units_and_a_constraint_in_plain_words(client, tmp_path):
    path = tmp_path / "sit.mprog"
    open_document(client, path, PROGRAM)
    hover = client.request("textDocument/hover", at(path, 6, 15))["contents"]["value"]
    assert hover.startswith("def sits_on(seat) = ") and "sitting on seat" in hover
    assert client.request("textDocument/hover", at(path, 7, 36))["contents"]["value"] == (
        "alias of the joint left_wrist, position in m")
    assert client.request("textDocument/hover", at(path, 7, 23))["contents"]["value"] == (
        "joint head (index 15), position in m")
    assert client.request("textDocument/hover", at(path, 5, 14))["contents"]["value"] == "unit: 1 cm = 0.01 m"
    words = client.request("textDocument/hover", at(path, 7, 1))["contents"]["value"]
    assert words == "head.y is below left_hand.y + lift, at some frame of the motion"


def test_definition_of_a_let_a_scene_object_and_a_library_def(client, tmp_path):
    path = tmp_path / "sit.mprog"
    open_document(client, path, PROGRAM)
    lift = client.request("textDocument/definition", at(path, 7, 47))
    assert lift["uri"] == path.as_uri() and lift["range"]["start"] == {"line": 5, "character": 0}
    chair = client.request("textDocument/definition", at(path, 6, 23))
    assert chair["range"]["start"] == {"line": 3, "character": 2}
    library = client.request("textDocument/definition", at(path, 6, 15))
    text = Path(library["uri"].removeprefix("file://")).read_text()
    assert library["uri"].endswith("/interaction.mprog") and text == locate_import("interaction", str(path), ())[0]
    assert text.splitlines()[library["range"]["start"]["line"]].startswith("def sits_on(seat)")
    imported = client.request("textDocument/definition", at(path, 0, 10))
    assert imported["uri"] == library["uri"]


def test_formatting_returns_the_canonical_text(client, tmp_path):
    path = tmp_path / "messy.mprog"
    open_document(client, path, 'motion   "walk" for 2 s\nat end:pelvis.y>1 m\n')
    edits = client.request("textDocument/formatting", {"textDocument": {"uri": path.as_uri()},
                                                        "options": {"tabSize": 2, "insertSpaces": True}})
    assert [edit["newText"] for edit in edits] == ['motion "walk" for 2 s\nat end: pelvis.y > 1 m\n']
    assert edits[0]["range"]["start"] == {"line": 0, "character": 0}


def test_document_symbols_are_the_constraints_and_scene_objects(client, tmp_path):
    path = tmp_path / "sit.mprog"
    open_document(client, path, PROGRAM)
    symbols = client.request("textDocument/documentSymbol", {"textDocument": {"uri": path.as_uri()}})
    assert [(s["name"], s["range"]["start"]["line"]) for s in symbols] == [("chair", 3), ("sit", 6), ("hands_up", 7)]
