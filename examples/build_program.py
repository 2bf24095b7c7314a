"""Build examples/duck_under_bar.mprog from Python with the builder API, compile it, and show
its constraints and their margins on a body standing still at the start (metres).

Run: python examples/build_program.py
"""

from __future__ import annotations

import torch

from motionprog.lang import Program
from motionprog.lang import builder as mb


def build() -> Program:
    """The duck-under-bar program: the same IR as the text file examples/duck_under_bar.mprog."""
    program = mb.ProgramBuilder("a person walks forward and crouches down", length=mb.q(6, "s"), seeds=4)
    program.imports("interaction")
    program.scene(bar=mb.box(center=(0, 1.45, 2), size=(3, 0.1, 0.2)), goal=mb.point(0, 0, 4))
    head, pelvis, body = mb.name("head"), mb.name("pelvis"), mb.name("body")
    bar, goal = mb.name("bar"), mb.name("goal")
    program.constraint(mb.always(), mb.call("passes_under", head, bar, mb.q(15, "cm")),
                       when=head.z.in_range(1.7, 2.3), label="duck")
    program.constraint(mb.always(), mb.call("avoids", body, bar), label="no_touch")
    program.constraint(mb.at("end"), mb.call("distance", pelvis.xz, goal.xz) < mb.q(30, "cm"), label="arrive")
    return program.compile()


if __name__ == "__main__":
    from rich.console import Console
    from rich.table import Table

    from motionprog.body.kinematics import forward_kinematics

    compiled = build()
    identity = torch.tensor([1.0, 0.0, 0.0, 0.0]).expand(1, compiled.frames, 22, 4)
    rest = forward_kinematics(identity, torch.zeros(1, compiled.frames, 3))  # [1, T, 22, 3]
    standing = rest - rest[..., 1:2].amin(dim=(-2, -1), keepdim=True) * torch.tensor([0.0, 1.0, 0.0])
    margins = compiled.margins(standing)[0]
    table = Table("constraint", "margin", "unit", "satisfied", title="duck_under_bar, built in Python")
    for info, margin in zip(compiled.constraints, margins.tolist()):
        table.add_row(info.name, f"{margin:+.3f}", info.unit, "yes" if margin >= 0 else "no")
    Console().print(table)
