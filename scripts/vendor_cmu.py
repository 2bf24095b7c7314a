"""Retarget the two CMU clips of ../shared/data/cmu into motionprog/data (the vendored data).

Usage: python scripts/vendor_cmu.py [CMU_FOLDER] [OUT_FOLDER]
(defaults: ../shared/data/cmu and motionprog/data beside this script's repository).
Writes cmu_01_01.npz and cmu_01_03.npz (22 joints, 20 fps, float32, compressed, with a text
label each) and CMU_ATTRIBUTION.txt.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import torch

from motionprog.io.atomic import write_text
from motionprog.io.bvh import read_bvh
from motionprog.motion import save_npz

REPO = Path(__file__).resolve().parents[1]

LABELS = {
    "01_01": "a person jumps forward several times with both feet, turns around and jumps back, "
             "then turns and jumps forward again",
    "01_03": "a person climbs up onto playground equipment, crouches on top and climbs back down, "
             "then steps sideways with both hands raised to hold a bar overhead; this happens twice",
}
"""Text of each clip, written after looking at the retargeted motion (CMU subject 1, playground)."""

ATTRIBUTION = """Motion data: CMU Graphics Lab Motion Capture Database, subject 1 ("playground"),
trials 01_01 and 01_03, from the cgspeed BVH conversion by Bruce Hahne
(Debian package assimp-testmodels).

The data used in this project was obtained from mocap.cs.cmu.edu.
The database was created with funding from NSF EIA-0196217.

Usage rights (from the conversion's readme): CMU places no restrictions on the use of the
original dataset, and the BVH conversion adds none; "This data is free for use in research
and commercial projects worldwide."

Files (written by scripts/vendor_cmu.py: retargeted onto the 22 HumanML3D joints with
HumanML3D bone lengths, 20 fps, metres, Y up, facing +Z at the start, feet on the floor):
"""


def main(cmu: Path, out: Path) -> None:
    torch.set_num_threads(1)
    lines = [ATTRIBUTION]
    for clip, text in LABELS.items():
        motion = read_bvh(cmu / f"{clip}.bvh")
        motion = replace(motion, text=text, metadata={"source": f"CMU {clip} (mocap.cs.cmu.edu)"})
        save_npz(motion, out / f"cmu_{clip}.npz")
        lines.append(f"- cmu_{clip}.npz ({motion.num_frames} frames, {motion.duration:.2f} s): {text}\n")
        print(f"wrote {out / f'cmu_{clip}.npz'} ({motion.num_frames} frames)")
    write_text(out / "CMU_ATTRIBUTION.txt", "".join(lines))


if __name__ == "__main__":
    args = sys.argv[1:]
    main(Path(args[0]) if args else REPO.parent / "shared" / "data" / "cmu",
         Path(args[1]) if len(args) > 1 else REPO / "motionprog" / "data")
