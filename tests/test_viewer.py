"""The self-contained HTML viewer: its content, and an end-to-end run in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from motionprog.errors import InputError
from motionprog.motion import Motion
from motionprog.render.viewer import viewer_html, write_viewer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REPORT = {
    "satisfied": False,
    "constraints": [
        {"name": "head under bar", "source": "duck.mprog:4", "joints": ["head"], "margin": -0.0234, "unit": "m", "satisfied": False},
        {"name": "feet on floor", "source": "duck.mprog:5", "joints": ["left_foot", "right_foot"], "margin": 0.01, "unit": "m", "satisfied": True},
    ],
    "metrics": {"foot_skating_ratio": 0.125},
}
SCENE = [{"kind": "box", "center": [0.0, 1.25, 0.6], "size": [2.0, 0.1, 0.3]}, {"kind": "hologram"}]


@pytest.fixture
def motion(swinging_joints) -> Motion:
    return Motion(swinging_joints, text="duck </script> under", metadata={"scene": SCENE, "report": REPORT})


def test_page_is_self_contained_and_carries_motion_scene_and_report(motion: Motion) -> None:
    page, warnings = viewer_html(motion)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing fetched from the network
    assert page.count("</script>") == 3  # the prompt's own "</script>" is escaped
    data = json.loads(re.search(r'id="motion-data">(.*?)</script>', page, re.S).group(1))
    joints = np.array(data["motions"][0]["joints"]).reshape(24, 22, 3)
    assert np.abs(joints - motion.joints).max() <= 5e-5  # rounded to 0.1 mm
    assert [o["label"] for o in data["objects"]] == ["box", "left_foot trail", "right_foot trail", "head trail"]
    assert warnings == ("scene object 'hologram' not drawn: unknown kind 'hologram' (known: point, line, plane, box, sphere, cylinder, mesh)",)
    assert "-0.0234 m" in page and "duck.mprog:4" in page and "not satisfied" in page and "hologram" in page


def test_write_viewer_refuses_other_extensions(motion: Motion, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\.txt"):
        write_viewer(motion, tmp_path / "view.txt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_viewer_loads_plays_and_draws_in_chromium(motion: Motion, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    path = tmp_path / "view.html"
    write_viewer(motion, path)
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
        )
        try:
            page = browser.new_page(viewport={"width": 800, "height": 500})
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(path.as_uri())
            page.wait_for_function("window.motionprogViewer && window.motionprogViewer.frame >= 3", timeout=20000)
            counter = page.text_content("#frame")
            shot = page.locator("#view").screenshot()
            page.click("#play")  # pause: the counter stops
            paused = page.evaluate("window.motionprogViewer.frame")
            page.wait_for_timeout(300)
            assert page.evaluate("window.motionprogViewer.frame") == paused
        finally:
            browser.close()
    assert errors == []
    assert re.fullmatch(r"(\d+) / 24", counter) and int(counter.split()[0]) >= 4
    from io import BytesIO

    from PIL import Image

    pixels = np.asarray(Image.open(BytesIO(shot)).convert("RGB"), dtype=float)
    assert pixels.std() > 10  # not a blank canvas
    assert ((pixels[..., 2] - pixels[..., 0]) > 60).sum() > 200  # the blue body is drawn
