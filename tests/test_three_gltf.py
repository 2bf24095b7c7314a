"""Our GLB opens in three.js: GLTFLoader reads it as one SkinnedMesh, an AnimationMixer plays it, and
the skinned mesh's bones land on the motion's joints (headless Chromium, three r170 served from 127.0.0.1)."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from motionprog.body.skeleton import JOINT_NAMES
from motionprog.motion import load_npz

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REPO = Path(__file__).resolve().parents[1]
THREE_MODULE = REPO / "motionprog" / "render" / "assets" / "three.module.min.js"
THREE_EXAMPLES = Path(__file__).resolve().parent / "assets" / "three"

PAGE = """<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<script type="importmap">{"imports": {"three": "./three.module.min.js"}}</script>
<script type="module">
import * as THREE from 'three';
import { GLTFLoader } from './loaders/GLTFLoader.js';
const { names, times } = JSON.parse(document.getElementById('query').textContent);
const gltf = await new GLTFLoader().loadAsync('clip.glb');
const clip = gltf.animations[0];
const mixer = new THREE.AnimationMixer(gltf.scene);
mixer.clipAction(clip).play();
const skinned = [];
gltf.scene.traverse((object) => { if (object.isSkinnedMesh) skinned.push(object); });
const bones = skinned[0].skeleton.bones;
const positions = times.map((t) => {
  mixer.setTime(t);
  gltf.scene.updateMatrixWorld(true);
  return names.map((name) => bones.find((bone) => bone.name === name).getWorldPosition(new THREE.Vector3()).toArray());
});
window.result = { positions, duration: clip.duration, tracks: clip.tracks.length, scene: gltf.scene.userData,
                  skinned: skinned.map((mesh) => mesh.name), bones: bones.map((bone) => bone.name) };
</script>
<script type="application/json" id="query">QUERY</script>
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A directory served on 127.0.0.1 holding three r170, its GLTFLoader and the page; yields
    (directory, URL of the directory)."""
    shutil.copy(THREE_MODULE, tmp_path / THREE_MODULE.name)
    shutil.copytree(THREE_EXAMPLES, tmp_path, dirs_exist_ok=True)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
@pytest.mark.parametrize("source", ["cmu_excerpt", "optimised_npz"])
def test_gltf_loader_plays_the_skinned_mesh_bones_on_the_motion(cli, source: str, served: tuple[Path, str],
                                                                 request) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    npz = request.getfixturevalue(source)
    directory, url = served
    code, output = cli("convert", npz, directory / "clip.glb")
    assert code == 0, output
    motion = load_npz(npz)
    frames = list(range(motion.num_frames))
    query = {"names": list(JOINT_NAMES), "times": [f / motion.fps for f in frames]}
    (directory / "index.html").write_text(PAGE.replace("QUERY", json.dumps(query)))
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url + "index.html")
            page.wait_for_function("window.result !== undefined", timeout=20000)
            result = page.evaluate("window.result")
        finally:
            browser.close()
    assert errors == []
    assert result["duration"] == pytest.approx((motion.num_frames - 1) / motion.fps, abs=1e-6)
    assert result["tracks"] == 22 + 1  # a rotation per joint and the pelvis position
    assert result["scene"] == {"text": motion.text, "fps": 20, "frames": motion.num_frames}
    assert result["skinned"] == ["body"] and result["bones"] == list(JOINT_NAMES)  # one SkinnedMesh on the rig
    error = np.linalg.norm(np.array(result["positions"]) - motion.joints, axis=-1)
    assert error.max() < 1e-5, f"worst joint {error.max() * 1000:.4f} mm"  # reached: 2e-7 m (float32 file)
