"""Program-level behaviour: header, imports, relax, scene and meshes, the catalogue, the docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import trimesh

import motionprog
from motionprog.lang import ProgramError, catalogue, check_source

DOCS = Path(__file__).resolve().parents[1] / "docs" / "language.md"


def test_header_sets_prompt_length_seeds_model_and_relax():
    program = motionprog.compile('motion "a person jumps" for 150 frames, seeds 3, model "bundled"\n'
                                 "relax yaw, xz\nat end: pelvis.y > 0.5")
    assert (program.text, program.frames, program.fps, program.seeds, program.model) == (
        "a person jumps", 150, 20, 3, "bundled")
    assert program.relaxed
    assert motionprog.compile('motion "walk" for 2.5 s\nalways: head.y > 1').frames == 50
    assert motionprog.compile('motion "walk" for 2.5 s\nalways: head.y > 1', frames=30).frames == 30
    assert not motionprog.compile("always: head.y > 1").relaxed


def test_compile_reads_a_path_and_reports_its_file_and_line(tmp_path):
    path = tmp_path / "walk.mprog"
    path.write_text('motion "walk" for 1 s\n\nat end: pelvis.z > 1\n')
    for source in (path, str(path)):
        program = motionprog.compile(source)
        assert program.constraints[0].source == f"{path}:3"


def test_imports_resolve_relative_files_once_and_share_definitions(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "contact_extra.mprog").write_text(
        "def grounded(j) = j.y < 2 cm\nlet clearance = 10 cm\n")
    (tmp_path / "walk.mprog").write_text(
        'import "lib/contact_extra.mprog"\nimport "lib/contact_extra.mprog"\n'
        "always: grounded(left_foot) or head.y > clearance\n")
    program = motionprog.compile(tmp_path / "walk.mprog", frames=4)
    joints = torch.zeros(1, 4, 22, 3)
    joints[..., 15, 1] = 1.0
    assert program.margins(joints)[0].tolist() == pytest.approx([0.9])


def test_import_cycles_and_constraints_in_libraries_are_errors(tmp_path):
    (tmp_path / "a.mprog").write_text('import "b.mprog"\ndef f(x) = x')
    (tmp_path / "b.mprog").write_text('import "a.mprog"\nalways: head.y > 1')
    (tmp_path / "main.mprog").write_text('import "a.mprog"\nalways: head.y > 1')
    with pytest.raises(ProgramError) as caught:
        motionprog.compile(tmp_path / "main.mprog")
    messages = [d.message for d in caught.value.diagnostics]
    assert any("import cycle" in m for m in messages)
    assert "an imported file may only contain import, let and def" in messages


def test_mesh_objects_load_relative_to_the_program(tmp_path):
    trimesh.creation.box(extents=(0.5, 0.5, 0.5)).export(tmp_path / "stool.obj")
    (tmp_path / "sit.mprog").write_text(
        'motion "sit" for 4 frames\nscene { stool = mesh("stool.obj", position = (0, 0.25, 1), '
        "rotation = (0, 90 deg, 0)) }\nalways: distance(pelvis, stool) > 0\nat end: pelvis above stool\n")
    program = motionprog.compile(tmp_path / "sit.mprog")
    joints = torch.zeros(1, 4, 22, 3, dtype=torch.float64)
    joints[..., 0, :] = torch.tensor([0.0, 0.6, 1.0], dtype=torch.float64)
    distance, above = program.margins(joints)[0].tolist()
    assert distance == pytest.approx(0.1, abs=0.02) and above == pytest.approx(0.1, abs=1e-6)
    assert program.scene[0].to_dict()["kind"] == "mesh"


def test_missing_mesh_file_is_a_diagnostic():
    (diagnostic,) = check_source('scene { chair = mesh("nowhere.obj") }\nalways: head.y > 1', "sit.mprog")
    assert diagnostic.code == "E210" and "nowhere.obj" in diagnostic.message


def test_catalogue_lists_every_builtin_with_signature_and_doc():
    entries = catalogue()
    functions = {f["name"]: f for f in entries["functions"]}
    assert {"distance", "velocity", "acceleration", "speed", "angle", "collide", "midpoint", "direction"} <= set(functions)
    assert functions["velocity"]["unit"] == "m/s" and functions["distance"]["signature"] == "distance(a, b)"
    assert {o["name"] for o in entries["objects"]} == {"point", "line", "plane", "box", "sphere", "cylinder", "mesh"}
    assert entries["aliases"]["left_hand"] == "left_wrist" and entries["groups"]["feet"] == ["left_foot", "right_foot"]


def test_the_catalogue_says_what_each_call_gives_as_the_checker_does():
    entries = catalogue()
    returns = {d["signature"].split("(")[0]: d["returns"] for defs in entries["library"].values() for d in defs}
    assert {name: gives for name, gives in returns.items() if gives != "condition"} == {"sole": "vector",
                                                                                         "ground_speed": "number"}
    builtins = {f["name"]: f["returns"] for f in entries["functions"]}
    assert [name for name, gives in builtins.items() if gives == "condition"] == ["collide"]
    assert builtins["distance"] == "number" and builtins["midpoint"] == "vector" and builtins["abs"] == "argument"
    # through other library functions, in other modules (holds_ball, com_between_feet) and through not collide()
    assert returns["carries_balanced"] == returns["avoids"] == returns["steps_on"] == "condition"
    header = 'import "balance"\nimport "locomotion"\nmotion "walk" for 2 s\n'
    for line, valid in [("always: sole(left_heel, left_toe)", False), ("always: ground_speed()", False),
                        ("always: com_between_feet(10 cm)", True), ("always: speed_limit(1 m/s)", True),
                        ("always: ground_speed() < 1 m/s", True), ("always: sole(left_heel, left_toe) < 1 m", False),
                        ("always: sole(left_heel, left_toe).y < 1 m", True), ("always: abs(head.xz) < 1 m", False)]:
        errors = [d.message for d in check_source(header + line + "\n", "calls.mprog") if d.level == "error"]
        assert (errors == []) == valid, (line, errors)


def test_every_program_in_the_language_reference_checks(tmp_path):
    trimesh.creation.box(extents=(0.5, 0.5, 0.5)).export(tmp_path / "chair.obj")
    blocks = [b for b in re.findall(r"```\n(.*?)```", DOCS.read_text(), re.S) if b.lstrip().startswith(("#", "motion", "scene"))]
    assert len(blocks) >= 2
    for block in blocks:
        assert check_source(block, str(tmp_path / "doc.mprog")) == [], block


def test_descriptions_spell_out_user_functions_and_windows():
    program = motionprog.compile("def grounded(j) = j.y < 2 cm\n"
                                 "during 1 s .. 2 s: grounded(left_foot) and grounded(right_foot) weight 3")
    (info,) = program.constraints
    assert info.description == ("both grounded(left_foot) (left_foot.y is below 2 cm) and grounded(right_foot) "
                                "(right_foot.y is below 2 cm), at every frame from 1.00 s to 2.00 s")
    assert (info.weight, info.unit, info.hard, info.kind) == (3.0, "m", True, "constraint")


def test_catalogue_and_prompt_reference_list_constructs_and_the_standard_library():
    from motionprog.llm.reference import language_reference

    entries = catalogue()
    assert [c["signature"] for c in entries["constructs"]][:2] == ["value @ instant", "instant + time | instant - time"]
    contact = {d["signature"]: d["doc"] for d in entries["library"]["contact"]}
    assert contact["on_floor(j)"] == "j (a joint or a group) touches the floor"
    assert set(entries["library"]) == {"balance", "carry", "contact", "interaction", "locomotion"}
    reference = language_reference()
    # the construct as a model should write it: the placeholder `value @ instant` was copied verbatim
    assert "a value at one instant (`head.y @ 2 s`, `pelvis.xz @ start`)" in reference and "value @ instant" not in reference
    assert '- `import "contact"`: `on_floor(j)`: j (a joint or a group) touches the floor;' in reference
    assert "`highest(x)`" in reference and "`centroid(x)`" in reference
